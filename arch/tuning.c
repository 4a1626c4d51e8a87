/* The per-CPU tuning file (contract in tuning.h). */
#define _GNU_SOURCE /* dladdr */
#include "tuning.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The value of /proc/cpuinfo's first line "key<blanks>: value" (key
 * exactly: "model" is not "model name") into line (512 bytes); a pointer
 * to it, or NULL when there is no such line. */
static char *cpuinfo_value(const char *key, char *line) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  const size_t kl = strlen(key);
  char *v = NULL;
  while (f && !v && fgets(line, 512, f)) {
    char *colon = strchr(line, ':');
    if (colon && !strncmp(line, key, kl) &&
        strspn(line + kl, " \t") == (size_t)(colon - line) - kl)
      v = colon + 1;
  }
  if (f) fclose(f);
  return v;
}

/* The CPU model as a file name: /proc/cpuinfo's "model name", lower case,
 * "(r)" and "(tm)" dropped, every run of other characters one '-'
 * ("Intel(R) Xeon(R) Gold 6430" -> "intel-xeon-gold-6430"). perf/tune-gemm
 * derives the same slug. 0 when there is no model name (then no file). */
static int cpu_slug(char *out, size_t n) {
  char line[512];
  char *v = cpuinfo_value("model name", line);
  if (!v) return 0;
  size_t o = 0;
  for (; *v && o + 2 < n; v++) {
    char c = (char)(*v >= 'A' && *v <= 'Z' ? *v - 'A' + 'a' : *v);
    if (c == '(' && (!strncasecmp(v, "(r)", 3) || !strncasecmp(v, "(tm)", 4))) {
      v = strchr(v, ')');
      continue;
    }
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out[o++] = c;
    else if (o && out[o - 1] != '-') out[o++] = '-';
  }
  while (o && out[o - 1] == '-') o--;
  out[o] = 0;
  return o > 0;
}

/* dir + "/" + rel + "/<slug>.conf" into buf, then opened. */
static FILE *try_dir(char *buf, size_t n, const char *dir, const char *rel,
                     const char *slug) {
  snprintf(buf, n, "%s%s/%s.conf", dir, rel, slug);
  return fopen(buf, "r");
}

/* The directory part of path (up to its last '/') into buf; 0 if none. */
static int dir_of(char *buf, size_t n, const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash || (size_t)(slash - path) + 1 > n) return 0;
  memcpy(buf, path, (size_t)(slash - path));
  buf[slash - path] = 0;
  return 1;
}

/* The search of cmx_tuning_open; buf (n bytes) gets the path of the file
 * it returns ("" when none). */
static FILE *tuning_find(char *buf, size_t n) {
  buf[0] = 0;
  const char *path = getenv("CMX_TUNING");
  if (path) {
    FILE *f = *path ? fopen(path, "r") : NULL;
    if (f) snprintf(buf, n, "%s", path);
    return f;
  }
  char slug[160], dir[4096];
  if (!cpu_slug(slug, sizeof slug)) return NULL;
  FILE *f = NULL;
  const char *env = getenv("CMX_TUNING_DIR");
  if (env && *env) {
    f = try_dir(buf, n, env, "", slug);
  } else {
    /* where make install put the files beside the library (for a static
     * link, dladdr names the executable, and the path does not exist) */
    Dl_info info;
    if (dladdr((void *)cmx_tuning_open, &info) && info.dli_fname &&
        dir_of(dir, sizeof dir, info.dli_fname)) {
      f = try_dir(buf, n, dir, "/../share/cmx/tuning", slug);
      /* the shared library of a build folder beside the source tree,
       * loaded by a program elsewhere (python's ctypes, a test suite):
       * without this it ran untuned (4096x4096x32 f32, 1 thread, 13.0 ms
       * against 7.1 with the file) */
      if (!f) f = try_dir(buf, n, dir, "/../perf/tuning", slug);
    }
    /* a build folder beside the source tree (the executable's) */
    ssize_t len = f ? -1 : readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (len > 0) {
      dir[len] = 0;
      char *slash = strrchr(dir, '/');
      if (slash) {
        *slash = 0;
        f = try_dir(buf, n, dir, "/../perf/tuning", slug);
      }
    }
  }
  if (!f) buf[0] = 0;
  return f;
}

FILE *cmx_tuning_open(void) {
  char buf[4096 + 256];
  return tuning_find(buf, sizeof buf);
}

int cmx_tuning_path(char *buf, size_t n) {
  FILE *f = tuning_find(buf, n);
  if (f) fclose(f);
  return f != NULL;
}

/* /proc/cpuinfo's "model" number (x86), -1 when there is none. */
static long cpu_model(void) {
  static atomic_long cached = LONG_MIN;
  long m = atomic_load_explicit(&cached, memory_order_relaxed);
  if (m != LONG_MIN) return m;
  char line[512], *end;
  char *v = cpuinfo_value("model", line);
  m = v ? strtol(v, &end, 10) : -1;
  if (v && end == v) m = -1;
  atomic_store_explicit(&cached, m, memory_order_relaxed);
  return m;
}

/* Whether the section header in line ("[all]", "[model N]") covers this
 * CPU; -1 when line is no header. */
static int section_matches(const char *line) {
  char word[16];
  long n;
  if (sscanf(line, " [%15[a-z] %ld]", word, &n) == 2 &&
      !strcmp(word, "model"))
    return n == cpu_model();
  if (sscanf(line, " [%15[a-z]]", word) == 1 && !strcmp(word, "all"))
    return 1;
  return line[strspn(line, " \t")] == '[' ? 0 : -1;
}

int cmx_tuning_next(FILE *f, char *key, char *val) {
  char line[256];
  /* Inside a section for another CPU model. A local is enough: a key is
   * returned only outside such a section, so every call starts outside. */
  int skip = 0;
  while (f && fgets(line, sizeof line, f)) {
    char *h = strchr(line, '#');
    if (h) *h = 0;
    int sec = section_matches(line);
    if (sec >= 0) {
      skip = !sec;
      continue;
    }
    if (skip) continue;
    if (sscanf(line, " %31[a-z_] = %63s", key, val) == 2 ||
        sscanf(line, " %31[a-z_] %63s", key, val) == 2)
      return 1;
  }
  return 0;
}

long cmx_knob(struct cmx_knob *k) {
  long v = atomic_load_explicit(&k->v, memory_order_relaxed);
  if (v == LONG_MIN) {
    v = (long)cmx_tuning_num(k->key, k->env, (double)k->dflt);
    atomic_store_explicit(&k->v, v, memory_order_relaxed);
  }
  return v;
}

double cmx_tuning_num(const char *key, const char *env, double dflt) {
  const char *e = env ? getenv(env) : NULL;
  char *end;
  if (e && *e) {
    double v = strtod(e, &end);
    if (end != e) return v;
  }
  FILE *f = cmx_tuning_open();
  char k[32], val[64];
  double r = dflt;
  while (cmx_tuning_next(f, k, val))
    if (!strcmp(k, key)) {
      double v = strtod(val, &end);
      if (end != val) r = v;
    }
  if (f) fclose(f);
  return r;
}
