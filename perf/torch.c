/* PyTorch peer: when `/usr/bin/python3 -c 'import torch'` works, runs
 * perf/torch_peer.py once per thread count through popen and turns its lines
 * ("family name shape threads median_s rate unit") into "torch" rows, with
 * the ratio to the same-run peak and cmx's speed relative to torch in the
 * note. Otherwise prints one line saying the peer is skipped. torch_peer
 * also serves the nn suite (perf/nn.c), which makes its own rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "nn.h"

static int g_have = -1; /* -1: not checked yet */
static char g_script[512];

int have_torch(void) {
  if (g_have >= 0)
    return g_have;
  g_have = 0;
  const char *slash = strrchr(g_opts.argv0, '/');
  if (access("perf/torch_peer.py", R_OK) == 0) {
    snprintf(g_script, sizeof g_script, "perf/torch_peer.py");
  } else if (slash) {
    snprintf(g_script, sizeof g_script, "%.*s/../perf/torch_peer.py",
             (int)(slash - g_opts.argv0), g_opts.argv0);
    if (access(g_script, R_OK) != 0)
      g_script[0] = 0;
  }
  if (!g_script[0]) {
    printf("torch: PyTorch peer skipped: perf/torch_peer.py not found\n");
  } else if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1")) {
    printf("torch: PyTorch peer skipped: /usr/bin/python3 cannot import "
           "torch\n");
  } else {
    g_have = 1;
  }
  return g_have;
}

static void label_of(char *buf, size_t len, int nt) {
  snprintf(buf, len, "torch peer %d thread%s", nt, nt > 1 ? "s" : "");
}

int torch_steps(void) {
  char label[64];
  int n = 0;
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    label_of(label, sizeof label, g_opts.threads[ti]);
    n += bench_wants(label);
  }
  return n && have_torch() ? n : 0;
}

/* The cmx row torch's line corresponds to, or NULL. */
static const struct bench_row *cmx_row(const char *fam, const char *name,
                                       const char *shape, int nt) {
  int n;
  const struct bench_row *rows = bench_rows(&n);
  const char *want = strcmp(fam, "matmul") ? name : "cmx f32";
  for (int i = 0; i < n; i++)
    if (!strcmp(rows[i].family, fam) && !strcmp(rows[i].name, want) &&
        !strcmp(rows[i].shape, shape) && rows[i].threads == nt &&
        rows[i].pass != -2)
      return &rows[i];
  return NULL;
}

/* One line into *l: 0, or -1 when it is no result line. */
static int parse_line(const char *line, struct torch_line *l) {
  int end = 0;
  memset(l, 0, sizeof *l);
  if (sscanf(line, "%15s %39s %23s %d %lf %lf %15s %n", l->fam, l->name,
             l->shape, &l->threads, &l->median_s, &l->rate, l->unit, &end) != 7)
    return -1;
  for (char *p = l->name; *p; p++)
    if (*p == '_')
      *p = ' ';
  snprintf(l->note, sizeof l->note, "%.*s", (int)strcspn(line + end, "\n"),
           line + end);
  return 0;
}

static void add_row(const struct torch_line *l, void *ctx) {
  const char *fam = l->fam, *name = l->name, *shape = l->shape;
  int nt = l->threads;
  double med = l->median_s, rate = l->rate;
  struct bench_row r = {
      .threads = nt, .median_s = med, .rate = rate, .ratio = -1, .pass = -1};
  r.unit = strcmp(l->unit, "GFLOP/s") ? UNIT_GBPS : UNIT_GFLOPS;
  snprintf(r.family, sizeof r.family, "torch");
  snprintf(r.name, sizeof r.name, "%.15s %.23s", fam, name);
  snprintf(r.shape, sizeof r.shape, "%s", shape);
  if (nt <= BENCH_MAX_THREADS) {
    double peak = r.unit == UNIT_GFLOPS    ? g_peaks.fma_f32[nt]
                  : !strcmp(fam, "binary") ? g_peaks.triad[TIER_BIG][nt]
                  : !strcmp(fam, "reduce") ? g_peaks.read[TIER_BIG][nt]
                                           : g_peaks.copy[TIER_BIG][nt];
    const char *ref = r.unit == UNIT_GFLOPS    ? "fma"
                      : !strcmp(fam, "binary") ? "triad"
                      : !strcmp(fam, "reduce") ? "read"
                                               : "copy";
    if (peak > 0)
      r.ratio = rate / peak;
    snprintf(r.ref, sizeof r.ref, "%s", ref);
  }
  const struct bench_row *c = cmx_row(fam, name, shape, nt);
  if (c && c->median_s > 0)
    snprintf(r.note, sizeof r.note, "cmx/torch %.2fx", med / c->median_s);
  bench_add_row(&r);
}

int torch_peer(const char *args, int nt,
               void (*fn)(const struct torch_line *, void *), void *ctx) {
  char cmd[1400], line[512];
  struct torch_line l;
  if (!have_torch())
    return -1;
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s --threads %d%s%s%s", g_script,
           nt, g_opts.quick ? " --quick" : "", args ? " " : "",
           args ? args : "");
  FILE *p = popen(cmd, "r");
  if (!p) {
    printf("torch: cannot run %s\n", cmd);
    return -1;
  }
  int n = 0;
  while (fgets(line, sizeof line, p))
    if (!parse_line(line, &l)) {
      fn(&l, ctx);
      n++;
    }
  if (pclose(p)) {
    printf("torch: %s failed\n", cmd);
    return -1;
  }
  return n;
}

void torch_run(void) {
  char label[64];
  if (!torch_steps())
    return;
  for (int ti = 0; ti < g_opts.nthreads; ti++) {
    int nt = g_opts.threads[ti];
    label_of(label, sizeof label, nt);
    if (bench_step(label) && torch_peer(NULL, nt, add_row, NULL) < 0)
      return;
  }
}
