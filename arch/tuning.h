/* The per-CPU tuning file (perf/tuning/<cpu-slug>.conf): lines
 * "key = value" (or "key value"), '#' comments. Each family reads the keys
 * it owns and ignores the rest, so one file carries every family's knobs
 * (f32 GEMM: kernels/f32-gemm/f32-gemm.c; transposing copy:
 * kernels/x32-transpose/x32-transpose.c). perf/tune-gemm writes the GEMM
 * keys and keeps the others. A line "[model N]" starts a section whose
 * keys apply only where /proc/cpuinfo's "model" number is N, "[all]" one
 * for every CPU again; any other header's section applies nowhere. Virtual
 * machines often report one generic model name ("Intel(R) Xeon(R)
 * Processor") for different parts (here model 167, a 2-core VM, and 207,
 * the lent 16-core machine), which share the slug but not every best
 * value. Where a key comes more than once, the last that applies wins. */
#ifndef CMX_ARCH_TUNING_H
#define CMX_ARCH_TUNING_H
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>

/* The tuning file, first that exists: $CMX_TUNING (a path; set but empty
 * or missing: none, which the tuning script uses), else <slug>.conf in
 * $CMX_TUNING_DIR (when set, the only place looked at), else in <dir of
 * the loaded libcmx>/../share/cmx/tuning (where make install puts them),
 * else in <dir of the running executable>/../perf/tuning (a build folder
 * beside the source tree). NULL when there is none. */
FILE *cmx_tuning_open(void);
/* The path cmx_tuning_open would read into buf (n bytes, truncated to
 * fit), "" when none; returns 1 when there is one. */
int cmx_tuning_path(char *buf, size_t n);
/* Reads the next "key value" line of f that applies to this CPU (sections
 * above) into key[32] and val[64]; 0 at the end of the file. */
int cmx_tuning_next(FILE *f, char *key, char *val);
/* A numeric knob: the environment variable env when set to a number, else
 * key in the tuning file, else dflt. Reads the file on every call: cache
 * the result. */
double cmx_tuning_num(const char *key, const char *env, double dflt);

/* An integer knob read once: a static struct cmx_knob k = CMX_KNOB(key,
 * env, dflt); cmx_knob(&k) is cmx_tuning_num's value (truncated), read on
 * the first call and cached (racing first callers read the same value). */
struct cmx_knob {
  const char *key, *env;
  long dflt;
  atomic_long v; /* LONG_MIN: not read yet */
};
#define CMX_KNOB(key, env, dflt) {key, env, dflt, LONG_MIN}
long cmx_knob(struct cmx_knob *k);

#endif
