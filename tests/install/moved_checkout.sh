#!/usr/bin/env bash
# moved_checkout.sh: `make` in a checkout copied, then moved, together with its configured build
# directory. CMake refuses a CMakeCache.txt made for another folder; the Makefile's configure
# step (which `make demo`, `make check` and `make install` all run first) must notice it and
# configure the build directory again for the folder it is in.
# Env: VIB_SOURCE (the source tree), VIB_BUILD (a configured build directory); ctest sets both.
set -euo pipefail

VIB_SOURCE=${VIB_SOURCE:?set VIB_SOURCE to the source tree}
VIB_BUILD=${VIB_BUILD:?set VIB_BUILD to the build directory}
T=$(mktemp -d /tmp/vib-moved.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

home_of() { sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/build/CMakeCache.txt"; }

# The checkout without its runs, build directories and git metadata, and a configured build/.
mkdir "$T/copy"
tar -C "$VIB_SOURCE" --exclude=./.git --exclude='./build*' --exclude=./runs -cf - . | tar -C "$T/copy" -xf -
cp -a "$VIB_BUILD" "$T/copy/build"
[ "$(home_of "$T/copy")" -ef "$VIB_SOURCE" ] || fail "the copied cache does not name $VIB_SOURCE"

configure() {   # make configure in $1; its output in $T/log
  make -C "$1" configure BUILD=build >"$T/log" 2>&1 || { cat "$T/log"; fail "make configure in $1"; }
}

configure "$T/copy"
grep -q "build was configured for $VIB_SOURCE" "$T/log" || { cat "$T/log"; fail "no word of the reconfiguration"; }
[ "$(home_of "$T/copy")" -ef "$T/copy" ] || fail "build/ of the copy still names $(home_of "$T/copy")"
echo "ok: a copied checkout configures its build/ again"

configure "$T/copy"
! grep -q "was configured for" "$T/log" || { cat "$T/log"; fail "a build/ configured here was configured again"; }
echo "ok: a build/ configured for its folder is kept"

mv "$T/copy" "$T/moved"
configure "$T/moved"
grep -q "build was configured for $T/copy" "$T/log" || { cat "$T/log"; fail "no word of the reconfiguration"; }
[ "$(home_of "$T/moved")" -ef "$T/moved" ] || fail "build/ of the moved checkout still names $(home_of "$T/moved")"
echo "ok: a moved checkout configures its build/ again"
