# mk/load.mk — loaders, tokenizer, tts-generate's loading commands.

# make fuzz-load: the loaders and tokenizer under ASan/UBSan on mutated
# fixtures (a few minutes; not part of make test).
ASAN_BUILD = $(BUILD)/asan
FUZZ_N ?= 200
.PHONY: fuzz fuzz-load
fuzz: fuzz-load
fuzz-load:
	$(MAKE) BUILD=$(ASAN_BUILD) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -Wno-format-overflow" \
		LDFLAGS="-fsanitize=address,undefined" $(ASAN_BUILD)/tts-generate
	python3 tests/fuzz/fuzz_load.py $(ASAN_BUILD)/tts-generate $(FUZZ_N)
