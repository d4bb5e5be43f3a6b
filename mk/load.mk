# mk/load.mk — loaders, tokenizer, tts-generate's loading commands.

# make fuzz-load: the loaders and tokenizer under ASan/UBSan on mutated
# fixtures (a few minutes; not part of make test).  The sanitizer build is
# mk/harden.mk's (one build/asan, one set of flags).
FUZZ_N ?= 200
.PHONY: fuzz fuzz-load
fuzz: fuzz-load
fuzz-load: asan-build
	python3 tests/fuzz/fuzz_load.py $(ASAN_BUILD)/tts-generate $(FUZZ_N)
