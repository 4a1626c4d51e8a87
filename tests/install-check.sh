#!/bin/sh
# make install into a scratch prefix, then a program built outside the tree
# with pkg-config against the installed library: it computes a small sum
# (checked) and prints the tuning file the library found, which must be the
# installed copy of this CPU's committed file where perf/tuning has one
# (the program's own directory has no perf/tuning beside it). Under
# make test-asan the installed library is the sanitized one, and SAN builds
# the program with the same sanitizers.
set -e
MAKE=${MAKE:-make}
# fails unless $2 (the tuning file found by $1) is $3
expect_path() {
  [ "$2" = "$3" ] ||
    { echo "install-check: FAIL: $1 found '$2', want '$3'"; exit 1; }
}
prefix=$(mktemp -d /tmp/cmx-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
$MAKE --no-print-directory install PREFIX="$prefix" >/dev/null
cat > "$prefix/prog.c" <<'PROG'
#include <cmx.h>
#include <stdio.h>
int main(void) {
  float x[4] = {1, 2, 3, 4};
  int64_t shape[1] = {4};
  cmx_array a, s;
  double v = 0;
  char path[4352];
  if (cmx_array_from_data(&a, x, CMX_F32, shape, 1) ||
      cmx_sum(&s, a, NULL, 0, false, NULL) || cmx_array_item(&v, s) ||
      cmx_tuning_file(path, sizeof path)) {
    fprintf(stderr, "install-check: %s\n", cmx_last_error());
    return 1;
  }
  printf("%g %s\n", v, path);
  cmx_array_free(s);
  cmx_array_free(a);
  return 0;
}
PROG
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc "$prefix/prog.c" -o "$prefix/prog" $(pkg-config --cflags --libs cmx) \
  -Wl,-rpath,"$prefix/lib" ${SAN}
out=$("$prefix/prog")
sum=${out%% *}
found=${out#* }
[ "$sum" = 10 ] || { echo "install-check: FAIL: sum printed '$out'"; exit 1; }
# this CPU's committed file, if any: what the same program finds when
# pointed at the source tree's perf/tuning
want=$(CMX_TUNING_DIR="$PWD/perf/tuning" "$prefix/prog")
want=${want#* }
if [ -n "$want" ]; then
  expect_path "the installed library" "$found" \
    "$prefix/lib/../share/cmx/tuning/$(basename "$want")"
  echo "install-check: PASS (sum 10; tuning file $found)"
else
  [ -z "$found" ] ||
    { echo "install-check: FAIL: found '$found' with none committed"; exit 1; }
  echo "install-check: PASS (sum 10; no committed tuning file for this CPU)"
fi
# The same program linked against the build folder's shared library and run
# from outside the tree, as python's ctypes loads it: the library finds the
# committed file beside its own build folder.
build=${BUILD:-build}
cc "$prefix/prog.c" -o "$prefix/prog-tree" -Iapi/include -L"$build" -lcmx \
  -Wl,-rpath,"$PWD/$build" ${SAN}
tree=$("$prefix/prog-tree")
tree=${tree#* }
if [ -n "$want" ]; then
  expect_path "the build-tree library" "$tree" \
    "$PWD/$build/../perf/tuning/$(basename "$want")"
  echo "install-check: PASS (build-tree library from outside: $tree)"
fi
