/* CPU feature detection (CPUID through __builtin_cpu_supports on x86,
 * HWCAP on Arm) and the choice of the dispatch table: the best level, or
 * CMX_ISA=generic|avx2|avx512|avx512bf16|neon. A level the CPU lacks is an
 * error that every op reports (CMX_EUNSUPPORTED), never a SIGILL. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "dispatch.h"

static const char *const g_names[CMX_ISA_COUNT] = {
    "generic", "avx2", "avx512", "neon", "avx512bf16"};
static struct cmx_dispatch g_tables[CMX_ISA_COUNT];
/* The table cmx picks for this CPU (arch_init): g_tables[best], less the
 * avx512bf16 level's vdpbf16ps GEMM where that does not pay. */
static struct cmx_dispatch g_auto;
static _Atomic(const struct cmx_dispatch *) g_current;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_env_error[160];

#if defined(__x86_64__)
/* CPUID.1:ECX bit 29 (clang 14's __builtin_cpu_supports has no "f16c"). */
static int has_f16c(void) {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1);
}
/* AVX512_BF16: CPUID.(EAX=7, ECX=1):EAX bit 5 (the zmm state is already
 * checked by __builtin_cpu_supports("avx512f") for the avx512 level). */
static int has_avx512bf16(void) {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1);
}
#endif

int cmx_cpu_has(enum cmx_isa_level isa) {
  switch (isa) {
    case CMX_ISA_GENERIC: return 1;
#if defined(__x86_64__)
    case CMX_ISA_AVX2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             has_f16c();
    case CMX_ISA_AVX512:
      return cmx_cpu_has(CMX_ISA_AVX2) &&
             __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq");
    case CMX_ISA_AVX512BF16:
      return cmx_cpu_has(CMX_ISA_AVX512) && has_avx512bf16();
#endif
#if defined(__aarch64__)
    case CMX_ISA_NEON: return 1; /* Advanced SIMD is mandatory in armv8-a */
#endif
    default: return 0;
  }
}

#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int g_amx, g_amx_int8; /* AMX-BF16, AMX-INT8 usable */
static pthread_once_t g_amx_once = PTHREAD_ONCE_INIT;

/* The tile state, asked of the OS once for both AMX families: CPUID's
 * AMX-TILE with AVX512_BF16 (AMX-BF16) or AVX512 (AMX-INT8), XCR0's tile
 * bits, and the process's permission for the tile data. */
static void amx_probe(void) {
  const char *e = getenv("CMX_AMX");
  unsigned a, b, c, d;
  if ((e && strcmp(e, "0") == 0) || !cmx_cpu_has(CMX_ISA_AVX512) ||
      !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d >> 24 & 1)) /* TILE */
    return;
  int bf16 = (d >> 22 & 1) && cmx_cpu_has(CMX_ISA_AVX512BF16);
  int int8 = d >> 25 & 1;
  if (!bf16 && !int8) return;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 27 & 1)) return; /* OSXSAVE */
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo >> 17 & 3) != 3) return; /* XTILECFG and XTILEDATA enabled */
  unsigned long perm = 0;
  if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) ||
      syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) ||
      !(perm >> XFEATURE_XTILEDATA & 1))
    return;
  g_amx = bf16;
  g_amx_int8 = int8;
}

int cmx_cpu_has_amx_bf16(void) {
  pthread_once(&g_amx_once, amx_probe);
  return g_amx;
}

int cmx_cpu_has_amx_int8(void) {
  pthread_once(&g_amx_once, amx_probe);
  return g_amx_int8;
}
#else
int cmx_cpu_has_amx_bf16(void) { return 0; }
int cmx_cpu_has_amx_int8(void) { return 0; }
#endif

int cmx_cpu_has_avx512vnni(void) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  return cmx_cpu_has(CMX_ISA_AVX512) &&
         __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c >> 11 & 1);
#else
  return 0;
#endif
}

enum cmx_isa_level cmx_cpu_best(void) {
#if defined(__x86_64__)
  if (cmx_cpu_has(CMX_ISA_AVX512BF16)) return CMX_ISA_AVX512BF16;
#endif
  if (cmx_cpu_has(CMX_ISA_AVX512)) return CMX_ISA_AVX512;
  if (cmx_cpu_has(CMX_ISA_AVX2)) return CMX_ISA_AVX2;
  if (cmx_cpu_has(CMX_ISA_NEON)) return CMX_ISA_NEON;
  return CMX_ISA_GENERIC;
}

int cmx_pairs_pay(void) {
#if defined(__x86_64__)
  return cmx_cpu_has(CMX_ISA_AVX512BF16) &&
         (cmx_cpu_has_amx_bf16() || cmx_avx512bf16_pays());
#else
  return 0;
#endif
}

int cmx_dispatch_for(struct cmx_dispatch *t, enum cmx_isa_level isa) {
  if ((int)isa < 0 || isa >= CMX_ISA_COUNT || !cmx_cpu_has(isa)) return -1;
  memset(t, 0, sizeof *t);
  switch (isa) {
    case CMX_ISA_GENERIC: cmx_dispatch_init_generic(t); break;
#if defined(__x86_64__)
    case CMX_ISA_AVX2: cmx_dispatch_init_x86_avx2(t); break;
    case CMX_ISA_AVX512: cmx_dispatch_init_x86_avx512(t); break;
    case CMX_ISA_AVX512BF16: cmx_dispatch_init_x86_avx512bf16(t); break;
#endif
#if defined(__aarch64__)
    case CMX_ISA_NEON: cmx_dispatch_init_arm_neon(t); break;
#endif
    default: return -1;
  }
  t->isa = isa;
  t->name = g_names[isa];
  return 0;
}

static int select_level(const char *name) {
  for (int i = 0; i < CMX_ISA_COUNT; i++)
    if (!strcmp(name, g_names[i]) && cmx_cpu_has((enum cmx_isa_level)i)) {
      atomic_store(&g_current, &g_tables[i]);
      g_env_error[0] = 0;
      return 0;
    }
  return -1;
}

static atomic_int g_ready; /* set (release) once arch_init is done */

static void arch_init(void) {
  for (int i = 0; i < CMX_ISA_COUNT; i++)
    cmx_dispatch_for(&g_tables[i], (enum cmx_isa_level)i);
  enum cmx_isa_level best = cmx_cpu_best();
  /* With AVX512_BF16 the level's casts and bf16 norm and softmax rows
   * round with vcvtne2ps2bf16 (f32 -> bf16 256 x 256 on the 2-core
   * Emerald Rapids VM, 1 thread: 8.6 -> 5.2 us against the integer
   * rounding); its vdpbf16ps GEMM only where AMX or the probe says so. */
  g_auto = g_tables[best];
  if (best == CMX_ISA_AVX512BF16 && !cmx_pairs_pay())
    g_auto.gemm_f32.bf16_ukr = NULL;
  atomic_store(&g_current, &g_auto);
  const char *e = getenv("CMX_ISA");
  if (e && *e && select_level(e) != 0) {
    int known = 0;
    for (int i = 0; i < CMX_ISA_COUNT; i++) known |= !strcmp(e, g_names[i]);
    snprintf(g_env_error, sizeof g_env_error,
             known ? "CMX_ISA=%s: this CPU cannot run it (best: %s)"
                   : "CMX_ISA=%s: unknown level (generic, avx2, avx512, "
                     "avx512bf16, neon; best here: %s)",
             e, g_names[best]);
  }
  atomic_store_explicit(&g_ready, 1, memory_order_release);
}

/* pthread_once, but a flag test once done: every op asks for the table
 * and the CMX_ISA error. */
static void init(void) {
  if (!atomic_load_explicit(&g_ready, memory_order_acquire))
    pthread_once(&g_once, arch_init);
}

const struct cmx_dispatch *cmx_dispatch(void) {
  init();
  return atomic_load_explicit(&g_current, memory_order_acquire);
}

const char *cmx_arch_env_error(void) {
  init();
  return g_env_error[0] ? g_env_error : NULL;
}

int cmx_arch_select(const char *name) {
  init();
  if (!name || !strcmp(name, "default")) {
    atomic_store(&g_current, &g_auto);
    return 0;
  }
  return select_level(name);
}
