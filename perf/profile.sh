#!/bin/sh
# Profiles cmx-bench rows. This VM has no hardware counters: `perf` mode
# samples cpu-clock; `callgrind` mode counts instructions (stable on a noisy
# machine; valgrind hides AVX-512, so CMX_ISA=avx2 and the AVX2 path runs).
# usage: perf/profile.sh perf [FILTER]       (default FILTER "exp 16M 1 thread")
#        perf/profile.sh callgrind [FILTER]  (default FILTER "exp 64K 1 thread")
set -eu
cd "$(dirname "$0")/.."
mode=${1:-perf}
bench=build/cmx-bench
[ -x "$bench" ] || make -j2 "$bench"
case "$mode" in
perf)
  filter=${2:-exp 16M 1 thread}
  # PERF_G=-g adds call graphs.
  perf record -e cpu-clock -F 4999 ${PERF_G:-} -o build/perf.data -- \
    "$bench" --no-peaks --threads 1 --filter "$filter" >/dev/null
  perf report -i build/perf.data --stdio --no-children --sort symbol \
    2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
  ;;
callgrind)
  filter=${2:-exp 64K 1 thread}
  CMX_ISA=avx2 valgrind --tool=callgrind \
    --callgrind-out-file=build/callgrind.out -- \
    "$bench" --quick --no-peaks --reps 200 --threads 1 --filter "$filter" \
    >/dev/null
  callgrind_annotate build/callgrind.out 2>/dev/null | head -40
  ;;
*)
  echo "usage: $0 perf|callgrind [FILTER]" >&2
  exit 2
  ;;
esac
