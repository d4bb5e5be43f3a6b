# mk/harden.mk — the library, tools and C unit tests built with
# AddressSanitizer and UndefinedBehaviorSanitizer into build/asan, then run
# through tests/run.  Any sanitizer error fails the target: reports go to
# build/asan/san/ (log_path) and are printed, since tests/run shows only
# TAP failures.  (Warnings there, such as a refused malloc over 1 GB that
# the code reports as out of memory, are not errors.)
#   make test-asan          unit tests (CI), leaks included
#   make test-asan-bats     then the bats files with the ASan tools (2 min);
#                           leaks not checked there: a tool interrupted by
#                           SIGINT exits without freeing, by design
ASAN_BUILD  = build/asan
ASAN_FLAGS  = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_ENV    = ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/san/asan:fast_unwind_on_malloc=0:allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=$(2) \
	      UBSAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/san/ubsan:halt_on_error=1:print_stacktrace=1 \
	      BUILD=$(ASAN_BUILD)

.PHONY: asan-build test-asan test-asan-bats
asan-build: deps
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CUDA=0 CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fopenmp -fsanitize=address,undefined" all

# $(1): the tests; $(2): 1 to check leaks
define ASAN_RUN
	@rm -rf $(ASAN_BUILD)/san && mkdir -p $(ASAN_BUILD)/san
	@$(ASAN_ENV) sh tests/run $(1); rc=$$?; \
	if grep -qsE 'ERROR|runtime error|SUMMARY' $(ASAN_BUILD)/san/*; then \
		cat $(ASAN_BUILD)/san/*; echo "test-asan: sanitizer reports above" >&2; exit 1; fi; \
	exit $$rc
endef

test-asan: asan-build
	$(call ASAN_RUN,$$(ls $(ASAN_BUILD)/tests/test_*),1)

test-asan-bats: test-asan
	$(call ASAN_RUN,$$(ls tests/*.bats),0)
