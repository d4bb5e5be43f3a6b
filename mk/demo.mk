# make demo: pipelines/demo.mk on the bundled tiny models, after building.
# Variables pass through: make demo COUNT=20 N=8.
DEMO_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
demo: all
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -f pipelines/demo.mk -j$(DEMO_JOBS) BUILD=$(BUILD) demo && \
	echo "make demo: $$(( $$(date +%s) - start )) s on $$(nproc) cores"
