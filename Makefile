# tts — test-time-scaling toolkit.  Plain Makefile: objects in build/.
# Targets: all test check-gpu demo bench install clean deps
CC      ?= cc
NVCC    ?= nvcc
CUDA_ARCH ?= 90
PREFIX  ?= /usr/local
BUILD   ?= build
CFLAGS  ?= -O2 -g
# CUDA=1 builds kernels/cuda (nvcc and cuBLAS); auto when nvcc is on the PATH.
CUDA    ?= $(if $(shell command -v $(NVCC) 2>/dev/null),1,0)
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(shell command -v $(NVCC) 2>/dev/null))
# STATIC=1 links the Debian libraries statically (for carrying a build to a
# machine without them, e.g. the GPU machine).
STATIC  ?= 0
# SYSROOT=DIR: headers and libraries unpacked from the Debian -dev packages
# (DIR/usr/include, DIR/usr/lib/x86_64-linux-gnu), for building on a machine
# that lacks them and cannot install them (the GPU machine); skips deps.
SYSROOT ?=

PKGS     = jansson msgpack libzstd libpcre2-8
ALL_CFLAGS = $(CFLAGS) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -fopenmp \
	     -Ilib -Ikernels $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ifeq ($(STATIC),1)
LDLIBS   = -Wl,-Bstatic -ljansson -lmsgpackc -lzstd -lpcre2-8 -Wl,-Bdynamic -lm -lpthread -static-libgcc
else
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lmsgpackc -lzstd -lpcre2-8) -lm
endif
LDFLAGS += -fopenmp
ifneq ($(SYSROOT),)
ALL_CFLAGS += -I$(SYSROOT)/usr/include
LDFLAGS += -L$(SYSROOT)/usr/lib/x86_64-linux-gnu
export TTS_NO_DEPS = 1
endif

LIB_SRC  = $(wildcard lib/*.c)
KCPU_SRC = $(wildcard kernels/*.c kernels/cpu/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
KCPU_OBJ = $(KCPU_SRC:%.c=$(BUILD)/%.o)
LIBTTS   = $(BUILD)/libtts.a

# Tools: tools/NAME.c is one program; tools/NAME/ (a folder) is one program
# made of every .c in it.
TOOL1    = $(notdir $(basename $(wildcard tools/*.c)))
TOOLDIRS = $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/*.c))))
TOOLS    = $(sort $(TOOL1) $(TOOLDIRS))
BINS     = $(TOOLS:%=$(BUILD)/%)

ifeq ($(CUDA),1)
CUDA_SRC = $(wildcard kernels/cuda/*.cu)
CUDA_OBJ = $(CUDA_SRC:%.cu=$(BUILD)/%.o)
NVFLAGS ?= -O3 -lineinfo
ALL_NVFLAGS = $(NVFLAGS) -std=c++17 -arch=sm_$(CUDA_ARCH) -Ikernels -Ilib -Xcompiler -Wall,-fPIC
CUDA_LIBS = -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublasLt -lcublas -lcudart_static -ldl -lrt -lpthread -lstdc++
ALL_CFLAGS += -DTTS_CUDA=1
else
CUDA_OBJ =
CUDA_LIBS =
endif

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test check-gpu demo bench install clean unit
all: deps $(LIBTTS) $(BINS) $(UNIT_BIN)

deps:
	@sh mk/deps.sh

$(BUILD)/%.o: %.c $(wildcard lib/*.h kernels/*.h kernels/cpu/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.cu $(wildcard kernels/*.h kernels/cuda/*.h kernels/cuda/*.cuh)
	@mkdir -p $(dir $@)
	$(NVCC) $(ALL_NVFLAGS) -c -o $@ $<

$(LIBTTS): $(LIB_OBJ) $(KCPU_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# One-file tools.
$(TOOL1:%=$(BUILD)/%): $(BUILD)/%: $(BUILD)/tools/%.o $(LIBTTS)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBTTS) $(LDLIBS)

# Folder tools (tts-generate links the CUDA backend when it is built).
define TOOLDIR_RULE
$(BUILD)/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c)) $(LIBTTS) $(CUDA_OBJ)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBTTS) $$(LDLIBS) $$(CUDA_LIBS)
endef
$(foreach t,$(sort $(TOOLDIRS)),$(eval $(call TOOLDIR_RULE,$(t))))

$(BUILD)/tests/%: tests/unit/%.c $(LIBTTS) $(CUDA_OBJ) tests/unit/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBTTS) $(LDLIBS) $(CUDA_LIBS)

# Every test that needs no GPU, through one harness; ends "N passed, N failed".
test: all
	@sh tests/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7

clean:
	rm -rf $(BUILD)

# Further targets (demo, bench, check-gpu, fuzz, ...) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))
