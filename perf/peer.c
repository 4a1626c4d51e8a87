/* The Python peers, PyTorch (perf/torch_peer.py) and MLX-CPU
 * (perf/mlx_peer.py): finds the interpreter that imports the library, runs
 * the script through popen and turns its lines ("family name shape threads
 * median_s rate unit [note]", perf/peer_common.py) into rows of the peer's
 * name, with the ratio to the same-run peak and cmx's speed relative to the
 * peer in the note. A peer that cannot run prints one line saying why and
 * is skipped. The scripts also serve the nn suite (perf/nn.c), which makes
 * its own rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "nn.h"

static const struct {
  const char *name;      /* family of its rows, in labels and skip lines */
  const char *title;     /* the library, in skip lines */
  const char *script;    /* under perf/ */
  const char *module;    /* what the interpreter must import */
  const char *env;       /* names the interpreter when set (NULL: none) */
  const char *python[3]; /* else the first of these that imports module */
  int one_thread;        /* runs every op on one thread, whatever asked */
} k_peers[PEER_COUNT] = {
    [PEER_TORCH] = {.name = "torch",
                    .title = "PyTorch",
                    .script = "torch_peer.py",
                    .module = "torch",
                    .env = "CMX_TORCH_PYTHON",
                    .python = {"python3", "/usr/bin/python3"}},
    /* MLX's CPU backend has no thread setting: perf/mlx_peer.py says why */
    [PEER_MLX] = {.name = "mlx",
                  .title = "MLX-CPU",
                  .script = "mlx_peer.py",
                  .module = "mlx.core",
                  .env = "CMX_MLX_PYTHON",
                  .python = {"python3", "/usr/bin/python3"},
                  .one_thread = 1},
};

static struct {
  int checked, have; /* peer_have has run; its answer */
  char script[512];  /* path of the script */
  char python[256];  /* the interpreter that imports the module */
  char version[64];  /* its __version__ */
} g_peer[PEER_COUNT];

const char *peer_name(int p) { return k_peers[p].name; }

int peer_runs_at(int p, int nt) { return !k_peers[p].one_thread || nt == 1; }

/* 1 when python (a shell command word list) imports the peer's module;
 * its __version__ goes to g_peer[p].version (one interpreter start: torch
 * takes seconds to import). */
static int imports(int p, const char *python) {
  char cmd[512], ver[64] = "";
  if (strlen(python) >= sizeof g_peer[p].python)
    return 0;
  snprintf(cmd, sizeof cmd,
           "%s -c 'import %s as m; print(getattr(m, \"__version__\", \"\"))' "
           "2>/dev/null", python, k_peers[p].module);
  FILE *f = popen(cmd, "r");
  if (!f)
    return 0;
  if (fgets(ver, sizeof ver, f)) ver[strcspn(ver, "\n")] = 0;
  while (fgetc(f) != EOF) {
  }
  if (pclose(f) != 0)
    return 0;
  snprintf(g_peer[p].python, sizeof g_peer[p].python, "%s", python);
  snprintf(g_peer[p].version, sizeof g_peer[p].version, "%s",
           *ver ? ver : "version unknown");
  return 1;
}

/* The script beside the working directory, else beside the binary. */
static int find_script(int p) {
  char *s = g_peer[p].script;
  const char *slash = strrchr(g_opts.argv0, '/');
  snprintf(s, sizeof g_peer[p].script, "perf/%s", k_peers[p].script);
  if (access(s, R_OK) == 0)
    return 1;
  if (!slash)
    return 0;
  snprintf(s, sizeof g_peer[p].script, "%.*s/../perf/%s",
           (int)(slash - g_opts.argv0), g_opts.argv0, k_peers[p].script);
  return access(s, R_OK) == 0;
}

/* The interpreter the peer's variable names, or NULL (unset or empty). */
static const char *env_python(int p) {
  const char *env = k_peers[p].env ? getenv(k_peers[p].env) : NULL;
  return env && *env ? env : NULL;
}

/* Why no interpreter fits, into buf: "X cannot import M", "neither X nor Y
 * can import M", "ENV=X cannot import M". */
static void why_not(int p, char *buf, size_t n) {
  const char *const *py = k_peers[p].python;
  const char *env = env_python(p);
  if (env)
    snprintf(buf, n, "%s=%s cannot import %s", k_peers[p].env, env,
             k_peers[p].module);
  else if (py[1])
    snprintf(buf, n, "neither %s nor %s can import %s", py[0], py[1],
             k_peers[p].module);
  else
    snprintf(buf, n, "%s cannot import %s", py[0], k_peers[p].module);
}

int peer_have(int p) {
  char why[320];
  const char *env = env_python(p);
  if (g_peer[p].checked)
    return g_peer[p].have;
  g_peer[p].checked = 1;
  if (!find_script(p)) {
    printf("%s: %s peer skipped: perf/%s not found\n", k_peers[p].name,
           k_peers[p].title, k_peers[p].script);
    return 0;
  }
  if (env)
    g_peer[p].have = imports(p, env);
  for (int i = 0; !env && !g_peer[p].have && k_peers[p].python[i]; i++)
    g_peer[p].have = imports(p, k_peers[p].python[i]);
  if (!g_peer[p].have) {
    why_not(p, why, sizeof why);
    printf("%s: %s peer skipped: %s\n", k_peers[p].name, k_peers[p].title, why);
    return 0;
  }
  /* "torch: PyTorch 2.x (python3)": which peer the rows compare against */
  printf("%s: %s %s (%s)\n", k_peers[p].name, k_peers[p].title,
         g_peer[p].version, g_peer[p].python);
  for (int ti = 0; ti < g_opts.nthreads; ti++)
    if (!peer_runs_at(p, g_opts.threads[ti])) {
      printf("%s: %s peer rows at 1 thread only: its CPU ops run on one "
             "thread, with no thread setting\n",
             k_peers[p].name, k_peers[p].title);
      break;
    }
  return 1;
}

static void label_of(char *buf, size_t len, int p, int nt) {
  snprintf(buf, len, "%s peer %d thread%s", k_peers[p].name, nt,
           nt > 1 ? "s" : "");
}

int peers_steps(void) {
  char label[64];
  int total = 0;
  for (int p = 0; p < PEER_COUNT; p++) {
    int wanted = 0, n = 0; /* labels the filter keeps; those it runs */
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      label_of(label, sizeof label, p, g_opts.threads[ti]);
      if (bench_wants(label)) {
        wanted = 1;
        n += peer_runs_at(p, g_opts.threads[ti]);
      }
    }
    total += wanted && peer_have(p) ? n : 0;
  }
  return total;
}

/* The cmx row the peer's line corresponds to, or NULL. */
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
static int parse_line(const char *line, struct peer_line *l) {
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

static void add_row(const struct peer_line *l, void *ctx) {
  const char *fam = l->fam, *name = l->name, *shape = l->shape;
  const char *peer = peer_name(*(const int *)ctx);
  int nt = l->threads;
  double med = l->median_s, rate = l->rate;
  struct bench_row r = {
      .threads = nt, .median_s = med, .rate = rate, .ratio = -1, .pass = -1};
  r.unit = strcmp(l->unit, "GFLOP/s") ? UNIT_GBPS : UNIT_GFLOPS;
  snprintf(r.family, sizeof r.family, "%s", peer);
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
    snprintf(r.note, sizeof r.note, "cmx/%s %.2fx", peer, med / c->median_s);
  bench_add_row(&r);
}

int peer_run(int p, const char *args, int nt,
             void (*fn)(const struct peer_line *, void *), void *ctx) {
  char cmd[1400], line[512];
  struct peer_line l;
  if (!peer_have(p) || !peer_runs_at(p, nt))
    return -1;
  snprintf(cmd, sizeof cmd, "%s %s --threads %d%s%s%s", g_peer[p].python,
           g_peer[p].script, nt, g_opts.quick ? " --quick" : "",
           args ? " " : "", args ? args : "");
  FILE *f = popen(cmd, "r");
  if (!f) {
    printf("%s: cannot run %s\n", k_peers[p].name, cmd);
    return -1;
  }
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (!parse_line(line, &l)) {
      fn(&l, ctx);
      n++;
    }
  if (pclose(f)) {
    printf("%s: %s failed\n", k_peers[p].name, cmd);
    return -1;
  }
  return n;
}

void peers_run(void) {
  char label[64];
  if (!peers_steps())
    return;
  for (int p = 0; p < PEER_COUNT; p++)
    for (int ti = 0; ti < g_opts.nthreads; ti++) {
      int nt = g_opts.threads[ti];
      label_of(label, sizeof label, p, nt);
      if (peer_runs_at(p, nt) && bench_step(label) &&
          peer_run(p, NULL, nt, add_row, &p) < 0)
        break;
    }
}
