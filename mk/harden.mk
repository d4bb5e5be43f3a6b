# mk/harden.mk — the library, tools and C unit tests built with
# AddressSanitizer and UndefinedBehaviorSanitizer into build/asan, then run
# through tests/run.  Any sanitizer report fails the target: reports go to
# build/asan/san/ (log_path) and are printed, since tests/run shows only
# TAP failures.
#   make test-asan          unit tests (CI)
#   make test-asan-bats     unit tests and the bats files, with the ASan tools
ASAN_BUILD  = build/asan
ASAN_FLAGS  = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_ENV    = ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/san/asan:detect_leaks=1:fast_unwind_on_malloc=0:allocator_may_return_null=1 \
	      UBSAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/san/ubsan:halt_on_error=1:print_stacktrace=1 \
	      BUILD=$(ASAN_BUILD)

.PHONY: asan-build test-asan test-asan-bats
asan-build: deps
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CUDA=0 CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fopenmp -fsanitize=address,undefined" all

define ASAN_RUN
	@rm -rf $(ASAN_BUILD)/san && mkdir -p $(ASAN_BUILD)/san
	@$(ASAN_ENV) sh tests/run $(1); rc=$$?; \
	if ls $(ASAN_BUILD)/san/* >/dev/null 2>&1; then \
		cat $(ASAN_BUILD)/san/*; echo "test-asan: sanitizer reports above" >&2; exit 1; fi; \
	exit $$rc
endef

test-asan: asan-build
	$(call ASAN_RUN,$$(ls $(ASAN_BUILD)/tests/test_*))

test-asan-bats: asan-build
	$(call ASAN_RUN,)
