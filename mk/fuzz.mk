# mk/fuzz.mk — libFuzzer harnesses for every parser (tests/fuzz/fuzz_*.c),
# built with clang, ASan and UBSan into build/fuzz/.  Not in CI.
#   make fuzz-build                 the harnesses
#   make fuzz FUZZ_TIME=600         fuzz each for FUZZ_TIME s (-j2: two at once)
#   make fuzz-NAME FUZZ_TIME=600    one of them (NAME: record, safetensors, ...)
# Each starts from the committed seeds (tests/fuzz/corpus/NAME, copied into
# build/fuzz/corpus/NAME, which keeps growing across runs); crashes land in
# build/fuzz/crash/NAME/ and the log in build/fuzz/NAME.log.
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_NICE  ?= nice -n 19
FUZZ_OPTS  ?= -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=2
FUZZ_SAN    = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 $(FUZZ_SAN) -std=c11 -Wall -Wextra -D_GNU_SOURCE -fopenmp -Ilib -Itests/fuzz \
	      $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_NAMES  = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   = $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
FUZZ_LIBOBJ = $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_LIB    = build/fuzz/libtts.a
# The record reader's errors longjmp out of eprintf, leaking the value
# being built.  A msgpack header may declare a huge array or map, which
# msgpack-c allocates at once (5 bytes can ask for 8 GB): mallocs over 1 GB
# return NULL, as on a machine that refuses them, and the reader says so.
FUZZ_ENV_record = ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=1024

.PHONY: fuzz fuzz-build $(FUZZ_NAMES:%=fuzz-%)
fuzz-build: $(FUZZ_BINS)

build/fuzz/obj/%.o: %.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIBOBJ)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

fuzz: $(FUZZ_NAMES:%=fuzz-%)

$(FUZZ_NAMES:%=fuzz-%): fuzz-%: build/fuzz/fuzz_%
	@mkdir -p build/fuzz/corpus/$* build/fuzz/crash/$*
	cp -n tests/fuzz/corpus/$*/* build/fuzz/corpus/$*/ 2>/dev/null || true
	$(FUZZ_ENV_$*) OMP_NUM_THREADS=1 $(FUZZ_NICE) build/fuzz/fuzz_$* $(FUZZ_OPTS) \
		-max_total_time=$(FUZZ_TIME) -artifact_prefix=build/fuzz/crash/$*/ \
		build/fuzz/corpus/$* > build/fuzz/$*.log 2>&1; \
		rc=$$?; tail -n 12 build/fuzz/$*.log; exit $$rc
