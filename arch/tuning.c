/* The per-CPU tuning file (contract in tuning.h). */
#include "tuning.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The CPU model as a file name: /proc/cpuinfo's "model name", lower case,
 * "(r)" and "(tm)" dropped, every run of other characters one '-'
 * ("Intel(R) Xeon(R) Gold 6430" -> "intel-xeon-gold-6430"). perf/tune-gemm
 * derives the same slug. 0 when there is no model name (then no file). */
static int cpu_slug(char *out, size_t n) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512], *v = NULL;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10) && (v = strchr(line, ':'))) break;
  if (f) fclose(f);
  if (!v) return 0;
  size_t o = 0;
  for (v++; *v && o + 2 < n; v++) {
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

FILE *cmx_tuning_open(void) {
  const char *path = getenv("CMX_TUNING");
  if (path) return *path ? fopen(path, "r") : NULL;
  char slug[160], buf[4096 + 200];
  if (!cpu_slug(slug, sizeof slug)) return NULL;
  const char *dir = getenv("CMX_TUNING_DIR");
  if (dir && *dir) {
    snprintf(buf, sizeof buf, "%s/%s.conf", dir, slug);
    return fopen(buf, "r");
  }
  ssize_t len = readlink("/proc/self/exe", buf, 4096);
  if (len <= 0) return NULL;
  buf[len] = 0;
  char *slash = strrchr(buf, '/');
  if (!slash) return NULL;
  snprintf(slash, sizeof buf - (size_t)(slash - buf),
           "/../perf/tuning/%s.conf", slug);
  return fopen(buf, "r");
}

int cmx_tuning_next(FILE *f, char *key, char *val) {
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    char *h = strchr(line, '#');
    if (h) *h = 0;
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
