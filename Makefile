# cmx: build, test and benchmark. `make bench` (main job), `make test`.
# Generic files build for baseline x86-64 (or armv8-a); each ISA file
# (*-avx2.c, *-avx512.c, *-neon.c) gets its own -m flags and the library
# picks a level at run time. Never -march=native in the library.

# Every core unless the caller chose (make -jN): on a fresh clone the
# builds (the library, the tests, the fuzzer's sanitized library) were most
# of make test's time, one file at a time.
# (The top make only: sub-makes share its jobs.)
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
endif

VERSION_MAJOR := 0
VERSION := 0.1.0
PREFIX ?= /usr/local

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
ARCH := $(shell $(CC) -dumpmachine | cut -d- -f1)
BUILD ?= build
OPT ?= -O2
# ISA_OPT: extra flags for the *-avx*.c files only (the fuzz build's -O0)
ISA_OPT ?=
SAN ?=

CFLAGS_BASE := -std=gnu11 $(OPT) -g -fPIC -fvisibility=hidden -fopenmp \
  -Wall -Wextra -Wno-unused-parameter -Iapi/include -I. $(SAN)
LDLIBS := -lblis -lhwloc -lm -lpthread
ISA_avx2 := -mavx2 -mfma -mf16c
ISA_avx512 := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl \
  -mavx512dq
# *-avx512vnni.c: AVX512_VNNI kernels, picked at run time by CPUID; no other
# file may emit VNNI (Skylake-X runs the avx512 level without it).
ISA_avx512vnni := $(ISA_avx512) -mavx512vnni
# *-avx512bf16.c: the avx512bf16 level (AVX512_BF16 on top of avx512); no
# other file may emit its instructions.
ISA_avx512bf16 := $(ISA_avx512) -mavx512bf16
# *-amx.c: AMX tile kernels (BF16, INT8), each called only where arch/cpu.c
# found its family enabled for the process; no other file may emit AMX.
ISA_amx := $(ISA_avx512bf16) -mamx-tile -mamx-bf16 -mamx-int8
# f32-vunary, f32-vbinary: each vector is a ~30-op dependent chain of
# kernels/common/vmath.h and gcc skips its pre-RA scheduler on x86, so the
# four vectors of an unrolled step issue one after another and the out-of-
# order window holds too few of them; interleaved, L1-resident gelu 34 ->
# 26, sigmoid 20 -> 16 TSC cycles a zmm vector (AVX2 gelu 31 -> 24 a ymm).
VMATH_SCHED := $(if $(findstring clang,$(CC)),,-fschedule-insns -fsched-pressure)
$(BUILD)/kernels/f32-vunary/%.o $(BUILD)/kernels/f32-vbinary/%.o \
  $(BUILD)/kernels/f64-vunary/%.o: CFLAGS_BASE += $(VMATH_SCHED)

# f64-vunary: every level rounds the same operations (explicit fmas only),
# so each gives the reference's bits.
NO_CONTRACT := -ffp-contract=off
$(BUILD)/kernels/f64-vunary/%.o: CFLAGS_BASE += $(NO_CONTRACT)

ALL_SRC := $(wildcard api/*.c sched/*.c arch/*.c kernels/*/*.c)
ifeq ($(ARCH),aarch64)
LIB_SRC := $(filter-out %-avx2.c %-avx512.c %-avx512bf16.c %-avx512vnni.c %-amx.c arch/x86-%.c,$(ALL_SRC))
else
LIB_SRC := $(filter-out %-neon.c arch/arm-%.c,$(ALL_SRC))
endif
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
LIB_SO := $(BUILD)/libcmx.so.$(VERSION)
LIB_A := $(BUILD)/libcmx.a

TEST_SRC := $(wildcard tests/test-*.c)
TEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC))
TEST_BIN := $(BUILD)/cmx-tests
BENCH_SRC := $(wildcard perf/*.c)
BENCH_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(BENCH_SRC))
BENCH_BIN := $(BUILD)/cmx-bench

DEPS_PKGS := libhwloc-dev hwloc libblis-dev libcriterion-dev \
  gcc-aarch64-linux-gnu qemu-user-static clang pkg-config
DEPS_STAMP := $(BUILD)/.deps-ok
BENCH_PKGS := libopenblas0-pthread libdnnl2
BENCH_DEPS_STAMP := $(BUILD)/.bench-deps-ok

.PHONY: all deps bench-deps test test-asan test-neon bench install clean lint format
all: $(LIB_SO) $(LIB_A)

# Installs the missing Debian packages of $(1) (apt waits for another
# holder of its lock); $(2) names the target in its messages.
define APT_INSTALL
missing=""; for p in $(1); do \
  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  echo "make $(2): installing$$missing"; \
  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
  $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq || true; \
  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get \
    -o DPkg::Lock::Timeout=600 install -y -qq $$missing; \
else echo "make $(2): all of $(1) present"; fi
endef

# Re-run when the stamp is gone.
deps:
	@$(call APT_INSTALL,$(DEPS_PKGS),deps)
	@mkdir -p $(BUILD) && touch $(DEPS_STAMP)

# The GEMM deck's C peers, loaded at run time (the harness skips one that
# is missing and says so): make bench installs them first where it can.
bench-deps: $(DEPS_STAMP)
	@($(call APT_INSTALL,$(BENCH_PKGS),bench-deps)) || echo "make bench-deps:\
	  could not install $(BENCH_PKGS); those peers are skipped"
	@touch $(BENCH_DEPS_STAMP)

$(BENCH_DEPS_STAMP):
	@$(MAKE) --no-print-directory bench-deps BUILD=$(BUILD)

$(DEPS_STAMP):
	@$(MAKE) --no-print-directory deps BUILD=$(BUILD)

# The compiler and flags this tree's objects were built with: rewritten
# (and so newer than every object) only when they change, so that a build
# directory reused with another SAN, OPT, ISA_OPT or CC recompiles all of
# it instead of linking objects built the old way.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_LINE := $(CC) $(CFLAGS_BASE) $(ISA_OPT)
$(shell mkdir -p $(BUILD) && [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(FLAGS_LINE)' ] || printf '%s\n' '$(FLAGS_LINE)' > $(FLAGS_STAMP))

$(BUILD)/%.o: %.c $(DEPS_STAMP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(if $(findstring -amx.c,$<),$(ISA_amx),$(if $(findstring -avx512bf16.c,$<),$(ISA_avx512bf16),$(if $(findstring -avx512vnni.c,$<),$(ISA_avx512vnni),$(if $(findstring -avx512.c,$<),$(ISA_avx512),$(if $(findstring -avx2.c,$<),$(ISA_avx2)))))) $(if $(findstring -avx,$<),$(ISA_OPT)) -MMD -MP -c $< -o $@

$(LIB_SO): $(LIB_OBJ) api/cmx.map
	$(CC) -shared -fopenmp $(SAN) -Wl,-soname,libcmx.so.$(VERSION_MAJOR) \
	  -Wl,--version-script=api/cmx.map -o $@ $(LIB_OBJ) $(LDLIBS)
	ln -sf libcmx.so.$(VERSION) $(BUILD)/libcmx.so.$(VERSION_MAJOR)
	ln -sf libcmx.so.$(VERSION) $(BUILD)/libcmx.so

$(LIB_A): $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $(LIB_OBJ)

# Tests link the static library: they reach the kernels and tables too.
$(TEST_BIN): $(TEST_OBJ) $(LIB_A)
	$(CC) -fopenmp $(SAN) -o $@ $(TEST_OBJ) $(LIB_A) -lcriterion $(LDLIBS)

$(BENCH_BIN): $(BENCH_OBJ) $(LIB_A)
	$(CC) -fopenmp -o $@ $(BENCH_OBJ) $(LIB_A) -lblis $(LDLIBS) -ldl

# The suite runs once with every kernel level compared inside it, then the
# op-level tests again with each CMX_ISA this CPU has, then NEON under qemu.
# allocator_may_return_null: the tests check that a failed huge malloc is
# CMX_ENOMEM, which ASan would otherwise turn into an abort.
TEST_ENV ?= OMP_WAIT_POLICY=passive ASAN_OPTIONS=allocator_may_return_null=1
# Seconds for the whole suite and for the op tests at one CMX_ISA level:
# ASan at -O1 over the generic (scalar) level took over 6 minutes on the
# 2-core Emerald Rapids VM, so test-asan allows more.
ISA_TIMEOUT ?= 300
SUITE_TIMEOUT ?= 600
test: $(TEST_BIN)
	$(TEST_ENV) timeout $(SUITE_TIMEOUT) $(TEST_BIN) -j1
	@for isa in $$(sh tests/isa-levels.sh); do \
	  echo "== op tests with CMX_ISA=$$isa"; \
	  CMX_ISA=$$isa $(TEST_ENV) timeout $(ISA_TIMEOUT) $(TEST_BIN) -j1 \
	    --filter 'ops*/*' || exit 1; done
	@$(MAKE) --no-print-directory test-neon
	@$(MAKE) --no-print-directory test-install
	@if [ -z "$(SAN)" ]; then \
	  $(MAKE) --no-print-directory test-mlx test-mlx-nn; \
	else echo "test-mlx: skipped: a sanitized library does not load into python"; fi
	@if [ "$(TEST_FUZZ)" = 1 ]; then $(MAKE) --no-print-directory test-fuzz; fi

# make install into a scratch prefix and a program built against it with
# pkg-config: it runs, and finds the installed tuning file for this CPU;
# the same program against build/libcmx.so, run from outside the tree, finds
# perf/tuning beside the build folder.
.PHONY: test-install
test-install: $(LIB_SO) $(LIB_A)
	MAKE="$(MAKE)" SAN="$(SAN)" BUILD="$(BUILD)" sh tests/install-check.sh

# Differential test of the model ops (matmul, norms, rope, attention, conv,
# quantisation, random, safetensors) against MLX through ctypes; not part
# of `make test`. Needs a python3 with mlx and numpy (else it says skipped).
MLX_PYTHON ?= python3
.PHONY: test-mlx-nn
test-mlx-nn: $(LIB_SO)
	$(MLX_PYTHON) tests/diff-mlx-nn.py $(BUILD)/libcmx.so

# CI's fuzz run: the libFuzzer target for FUZZ_SECONDS (60) from a fixed
# seed; a finding fails the test run and leaves its input in build-fuzz/.
TEST_FUZZ ?= 1
test-fuzz:
	@if ! command -v clang >/dev/null; then \
	  echo "test-fuzz: SKIPPED: clang missing (make deps)"; \
	else \
	  echo "== libFuzzer API fuzzing, $(FUZZ_SECONDS) s (make fuzz)" && \
	  rm -rf build-fuzz/ci-corpus && \
	  $(MAKE) --no-print-directory fuzz FUZZ_SEED=1 \
	    FUZZ_CORPUS=build-fuzz/ci-corpus >build-fuzz.log 2>&1 || \
	  { tail -60 build-fuzz.log; exit 1; }; \
	  grep -E "^stat::number_of_executed_units|^Done" build-fuzz.log; fi

test-asan:
	$(MAKE) --no-print-directory test BUILD=build-asan OPT=-O1 TEST_FUZZ=0 \
	  ISA_TIMEOUT=1800 SUITE_TIMEOUT=1800 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fsanitize=float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow"

# NEON: the microkernel families and dispatch tables, cross-built for
# aarch64 and checked against the generic level by a self-checking program
# under qemu (the runtime needs hwloc, which has no aarch64 build here).
NEON_CC := aarch64-linux-gnu-gcc
# Every family's microkernels (not its driver, kernels/<f>/<f>.c, which
# needs sched/), the dispatch tables and the self-checking program.
NEON_FAMILIES := $(wildcard kernels/f32-*/ kernels/f64-*/ kernels/i8-*/ \
  kernels/x32-*/ kernels/cvt/ kernels/random/)
NEON_SRC := $(filter-out %-avx2.c %-avx512.c %-avx512bf16.c %-avx512vnni.c %-amx.c \
  $(foreach f,$(NEON_FAMILIES),$(f)$(notdir $(f:/=)).c), \
  $(foreach f,$(NEON_FAMILIES),$(wildcard $(f)*.c))) \
  arch/cpu.c arch/generic.c arch/arm-neon.c tests/neon-check.c
NEON_F64 := $(filter kernels/f64-vunary/%,$(NEON_SRC)) # built $(NO_CONTRACT)
test-neon: $(DEPS_STAMP)
	@if ! command -v $(NEON_CC) >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then \
	  echo "test-neon: SKIPPED: $(NEON_CC) or qemu-aarch64-static missing (make deps)"; \
	else \
	  mkdir -p build-neon && \
	  for f in $(NEON_F64); do \
	    $(NEON_CC) -std=gnu11 -O2 -Wall -I. -Iapi/include $(NO_CONTRACT) \
	      -c $$f -o build-neon/$$(basename $$f .c).o || exit 1; done && \
	  $(NEON_CC) -std=gnu11 -O2 -Wall -I. -Iapi/include -o build-neon/neon-check \
	    $(filter-out $(NEON_F64),$(NEON_SRC)) \
	    $(patsubst %.c,build-neon/%.o,$(notdir $(NEON_F64))) -lm && \
	  echo "== NEON kernels under qemu-aarch64 (cortex-a72)" && \
	  timeout 300 qemu-aarch64-static -cpu cortex-a72 \
	    -L /usr/aarch64-linux-gnu build-neon/neon-check; fi

bench: $(BENCH_BIN) $(BENCH_DEPS_STAMP)
	$(BENCH_BIN) $(BENCH_ARGS)

install: $(LIB_SO) $(LIB_A)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 api/include/cmx.h $(DESTDIR)$(PREFIX)/include/cmx.h
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libcmx.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcmx.so.$(VERSION_MAJOR)
	ln -sf libcmx.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcmx.so
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -d $(DESTDIR)$(PREFIX)/share/cmx/tuning
	install -m 644 perf/tuning/*.conf $(DESTDIR)$(PREFIX)/share/cmx/tuning/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' api/cmx.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/cmx.pc

lint:
	clang-tidy $(LIB_SRC) -- $(CFLAGS_BASE)
	cppcheck --quiet --enable=warning,performance -Iapi/include $(LIB_SRC)

format:
	clang-format -i $(ALL_SRC) $(wildcard */*.h */*/*.h tests/*.c perf/*.c)

clean:
	rm -rf build build-asan build-neon

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d)

# ---- Sanitizer and fuzz targets (not part of `make test`: CI budget) ----
# TSan needs clang and libomp (gcc's TSan with libgomp reports false races):
# the library and the thread tests, built in build-tsan/. Criterion cannot
# start under TSan (Snaipe/Criterion#274): the tests build against the
# stand-in in tests/tsan-shim/, which forks per test the same way.
# clang 14 rejects __builtin_cpu_supports("f16c"): arch/cpu.c (start-up
# CPU detection, no shared state worth instrumenting) is built with gcc.
gcc_cpu_o = $(MAKE) --no-print-directory $(1)/.deps-ok BUILD=$(1) && \
  mkdir -p $(1)/arch && gcc -std=gnu11 -O1 -g -fPIC \
  -fvisibility=hidden -Iapi/include -I. -c arch/cpu.c -o $(1)/arch/cpu.o
TSAN_DIR := build-tsan
TSAN_SAN := -fsanitize=thread -fopenmp=libomp -fno-omit-frame-pointer
TSAN_TESTS := tests/test-concurrency.c tests/test-threads.c tests/test-compile.c
# Differential test of the core ops against MLX (tests/diff-mlx.py), once
# per ISA level this CPU has; needs a python3 with mlx and numpy, else it
# prints "skipped: <reason>". Not part of `make test`.
.PHONY: test-mlx
test-mlx: $(LIB_SO)
	@for isa in $$(sh tests/isa-levels.sh); do \
	  echo "== diff-mlx with CMX_ISA=$$isa"; \
	  CMX_ISA=$$isa OMP_WAIT_POLICY=passive CMX_LIB=$(BUILD)/libcmx.so \
	    python3 tests/diff-mlx.py || exit 1; done

.PHONY: test-tsan fuzz test-fuzz
test-tsan:
	$(call gcc_cpu_o,$(TSAN_DIR))
	$(MAKE) --no-print-directory $(TSAN_DIR)/libcmx.a BUILD=$(TSAN_DIR) \
	  CC=clang OPT=-O1 SAN="$(TSAN_SAN)"
	clang -std=gnu11 -O1 -g $(TSAN_SAN) -Itests/tsan-shim -Iapi/include -I. \
	  -o $(TSAN_DIR)/cmx-tsan-tests $(TSAN_TESTS) tests/tsan-shim/runner.c \
	  $(TSAN_DIR)/libcmx.a $(LDLIBS)
	TSAN_OPTIONS="ignore_noninstrumented_modules=1 halt_on_error=1" \
	  OMP_WAIT_POLICY=passive timeout 900 $(TSAN_DIR)/cmx-tsan-tests -j1

# libFuzzer on tests/fuzz-api.c with ASan and UBSan; the library is built
# with coverage in build-fuzz/. `make fuzz FUZZ_SECONDS=N` (default 60).
FUZZ_DIR := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CORPUS ?= $(FUZZ_DIR)/corpus
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -fopenmp=libomp
fuzz:
	$(call gcc_cpu_o,$(FUZZ_DIR))
	$(MAKE) --no-print-directory $(FUZZ_DIR)/libcmx.a BUILD=$(FUZZ_DIR) \
	  CC=clang OPT=-O1 ISA_OPT=-O0 SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link"
	clang -std=gnu11 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -Iapi/include \
	  -o $(FUZZ_DIR)/fuzz-api tests/fuzz-api.c $(FUZZ_DIR)/libcmx.a $(LDLIBS)
	mkdir -p $(FUZZ_CORPUS)
	ASAN_OPTIONS=allocator_may_return_null=1 OMP_WAIT_POLICY=passive \
	  $(FUZZ_DIR)/fuzz-api -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	  $(if $(FUZZ_SEED),-seed=$(FUZZ_SEED)) \
	  -rss_limit_mb=4096 -malloc_limit_mb=1024 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_CORPUS)
