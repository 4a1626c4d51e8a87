#!/bin/sh
# Prints the CMX_ISA levels this CPU can run, one per line (the same checks
# as arch/cpu.c: avx2 needs avx2+fma+f16c, avx512 needs avx512f/bw/vl/dq,
# avx512bf16 avx512 and avx512_bf16).
echo generic
f=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { echo "$f" | grep -qw "$1"; }
if has avx2 && has fma && has f16c; then echo avx2; fi
if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
  echo avx512
  if has avx512_bf16; then echo avx512bf16; fi
fi
