# mk/cuda.mk — check-gpu: the CUDA backend against the CPU backend, op by op
# and end to end (tests/gpu/check_ops.c).  Needs a GPU to run; without one,
# or without CUDA built, the harness says so and exits 77.
GPU_CHECK = $(BUILD)/tests/gpu/check_ops

$(GPU_CHECK): tests/gpu/check_ops.c $(LIBTTS) $(CUDA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CUDA_OBJ) $(LIBTTS) $(LDLIBS) $(CUDA_LIBS)

.PHONY: check-gpu-build
check-gpu-build: deps $(GPU_CHECK)

check-gpu: deps $(GPU_CHECK)
	$(GPU_CHECK)

# bench_ops: the GPU's copy bandwidth and matmul rate and the decode ops'
# times (bench/gpu-bench.sh runs it on the GPU machine).
GPU_BENCH = $(BUILD)/tests/gpu/bench_ops
$(GPU_BENCH): tests/gpu/bench_ops.c $(LIBTTS) $(CUDA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CUDA_OBJ) $(LIBTTS) $(LDLIBS) $(CUDA_LIBS)
check-gpu-build: $(GPU_BENCH)

# bench_step: the engine's decode step on random-weight 8B-shaped models
GPU_STEP = $(BUILD)/tests/gpu/bench_step
$(GPU_STEP): tests/gpu/bench_step.c $(LIBTTS) $(CUDA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CUDA_OBJ) $(LIBTTS) $(LDLIBS) $(CUDA_LIBS)
check-gpu-build: $(GPU_STEP)

# `make` (and so CI) builds the GPU harnesses too, so a change that breaks
# them shows at once; without CUDA they link against kernels/cuda_none.c.
all: $(GPU_CHECK) $(GPU_BENCH) $(GPU_STEP)
