#!/usr/bin/env bash
# install.sh: `make install` as a user sees it, from the build directory ctest runs in.
#
# Installs into a DESTDIR under another prefix (cmake --install, what `make install` runs), checks
# that exactly the binary, the man page and the bash completion land where they belong, runs the
# installed binary from a directory without the checkout (--version and a tiny experiment of its
# own: the DSL and the figure scripts are inside the binary), loads the completion in bash and
# completes commands, options, scripts and the --set keys of the script given, renders the man
# page, checks that the man page and the completion name every option of `vibrun --help`, then
# uninstalls (the uninstall target, what `make uninstall` runs) and checks that nothing is left.
#
# man and bash-completion are optional at run time: without them their checks are skipped with
# a note, except under CI (VIB_CI=1), where they must run.
# Env: VIBRUN (the built binary), VIB_SOURCE (the source tree), VIB_BUILD (the build directory).
set -euo pipefail

VIBRUN=${VIBRUN:?set VIBRUN to the vibrun binary}
VIB_SOURCE=${VIB_SOURCE:?set VIB_SOURCE to the source tree}
VIB_BUILD=${VIB_BUILD:?set VIB_BUILD to the build directory}
T=$(mktemp -d /tmp/vib-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
optional() {    # a check that needs a tool the machine may lack
  if [ -n "${VIB_CI:-}" ]; then fail "$* (VIB_CI is set: CI must run this check)"; fi
  echo "note: skipped: $*"
}

STAGE=$T/stage
PREFIX=/opt/vib-test
ROOT=$STAGE$PREFIX
BIN=$ROOT/bin/vibrun
MAN=$ROOT/share/man/man1/vibrun.1
COMP=$ROOT/share/bash-completion/completions/vibrun

# ---- install ----
DESTDIR=$STAGE cmake --install "$VIB_BUILD" --prefix "$PREFIX" >"$T/install.log" 2>&1 ||
  { cat "$T/install.log"; fail "cmake --install"; }
[ -x "$BIN" ] || fail "no executable $BIN"
# (not byte for byte: the install drops the build tree's RPATH)
[ "$("$BIN" --version)" = "$("$VIBRUN" --version)" ] || fail "$BIN is not the binary built"
cmp -s "$MAN" "$VIB_SOURCE/docs/vibrun.1" || fail "$MAN is not docs/vibrun.1"
cmp -s "$COMP" "$VIB_SOURCE/lua/vibrun.bash-completion" || fail "$COMP is not lua/vibrun.bash-completion"
found=$(cd "$STAGE" && find . -type f | sort | tr '\n' ' ')
want="./opt/vib-test/bin/vibrun ./opt/vib-test/share/bash-completion/completions/vibrun ./opt/vib-test/share/man/man1/vibrun.1 "
[ "$found" = "$want" ] || fail "installed files: $found; expected $want"
echo "ok: installed $want"

# ---- the installed binary, from a folder that holds no checkout ----
W=$T/work
mkdir -p "$W"
RUN=(env -i "PATH=$ROOT/bin:/usr/bin:/bin" "HOME=$T" OPENBLAS_NUM_THREADS=1)
(cd "$W" && "${RUN[@]}" vibrun --version) >"$T/version" || fail "vibrun --version"
grep -q '^vibrun [0-9]' "$T/version" && grep -q '^commit: ' "$T/version" && grep -q '^Lua: 5\.4' "$T/version" &&
  grep -q '^OpenBLAS: ' "$T/version" || fail "vibrun --version printed: $(cat "$T/version")"
echo "ok: $(head -2 "$T/version" | tr '\n' ' ')"
# Three blobs in 2-D, 90 rows; an experiment of one point and two epochs.
awk 'BEGIN { srand(7); print "x1,x2,y"; for (i = 0; i < 90; i++) { y = i % 3;
      printf "%.4f,%.4f,%d\n", (y == 1 ? 3 : 0) + rand(), (y == 2 ? 3 : 0) + rand(), y } }' >"$W/blobs.csv"
cat >"$W/blobs.lua" <<'EOF'
local vib = require "vib"
return vib.experiment {
  name = "blobs",
  data = vib.data.csv { path = "blobs.csv", holdout = 0.3 },
  params = { hidden = 8, seed = 1 },
  model = function(p) return vib.seq { vib.linear { out = p.hidden }, vib.relu {}, vib.linear { out = 3 } } end,
  objective = vib.obj.ce {},
  epochs = 2, batch = 10,
}
EOF
(cd "$W" && "${RUN[@]}" vibrun --quiet blobs.lua) >"$T/run.log" 2>&1 || { cat "$T/run.log"; fail "the installed vibrun could not run blobs.lua"; }
grep -q ',done,' "$W/runs/blobs/results.csv" || fail "no finished point in runs/blobs/results.csv"
echo "ok: the installed vibrun trained blobs.lua in $W"

# ---- the completion ----
complete_line() {   # the candidates bash offers for the words given (the last one is completed)
  (cd "$W" && PATH="$ROOT/bin:/usr/bin:/bin" bash --norc --noprofile -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    _vibrun; printf "%s\n" "${COMPREPLY[@]}"' complete_line "$COMP" "$@")
}
expect_completion() {   # want, then the words
  local want=$1; shift
  got=$(complete_line "$@" | LC_ALL=C sort | tr '\n' ' ')
  [ "$got" = "$want" ] || fail "completing '$*': '$got', expected '$want'"
}
expect_completion "status " vibrun stat
expect_completion "--jobs " vibrun blobs.lua --jo
: >"$W/blobs_common.lua"   # a module experiments require: not offered as a script
expect_completion "blobs.lua " vibrun blo
expect_completion "hidden= " vibrun blobs.lua --set hid
expect_completion "hidden= " vibrun blobs.lua --set = hid
expect_completion "ema= epochs= eval_batch= eval_passes= eval_samples= " vibrun blobs.lua --set e
expect_completion "runs " vibrun status ru
expect_completion "--tasks " vibrun slurm blobs.lua --tas
expect_completion "fashion-mnist " vibrun data get fa
expect_completion "cifar10 " vibrun data get c
echo "ok: the completion completes commands, options, scripts and --set keys"
# bash-completion finds it where it was installed (it searches <each of XDG_DATA_DIRS, by
# default /usr/local/share:/usr/share>/bash-completion/completions) and loads it on demand.
if [ -f /usr/share/bash-completion/bash_completion ]; then
  loaded=$(PATH="$ROOT/bin:/usr/bin:/bin" XDG_DATA_DIRS="$ROOT/share" bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion
    __load_completion vibrun && complete -p vibrun' 2>&1) || true
  [ "$loaded" = "complete -F _vibrun vibrun" ] || fail "bash-completion did not load $COMP: $loaded"
  echo "ok: bash-completion loads it on demand"
else
  optional "bash-completion is not installed (apt-get install bash-completion)"
fi

# ---- the man page, and every option of --help in it and in the completion ----
if command -v groff >/dev/null 2>&1 && command -v man >/dev/null 2>&1; then
  warnings=$(groff -man -ww -z "$MAN" 2>&1)
  [ -z "$warnings" ] || fail "groff warns about $MAN: $warnings"
  MANWIDTH=100 man -l "$MAN" >"$T/man.txt" 2>"$T/man.err" || { cat "$T/man.err"; fail "man -l $MAN"; }
  for section in NAME SYNOPSIS COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
    grep -q "^$section" "$T/man.txt" || fail "the man page has no $section section"
  done
  echo "ok: man -l renders it"
else
  optional "man or groff is not installed (apt-get install man-db groff-base)"
fi
version=$("$VIBRUN" --version | head -1)
grep -q "^\.TH VIBRUN 1 .* \"$version\"" "$MAN" || fail "the man page's .TH line does not name $version"
# (--array is Slurm's, named in the text of --shard)
options=$("$VIBRUN" --help | grep -o -- '--[a-z][a-z-]*' | grep -v -x -- --array | sort -u)
[ "$(echo "$options" | wc -l)" -ge 18 ] || fail "vibrun --help lists only: $options"
for o in $options; do
  grep -q -- "${o//-/\\\\-}" "$MAN" || fail "the man page does not describe $o"
  grep -q -- "$o\\b" "$COMP" || fail "the completion does not offer $o"
done
echo "ok: the man page and the completion name each of the $(echo "$options" | wc -l) options of --help"

# ---- uninstall ----
DESTDIR=$STAGE cmake --build "$VIB_BUILD" --target uninstall >"$T/uninstall.log" 2>&1 ||
  { cat "$T/uninstall.log"; fail "the uninstall target"; }
left=$(cd "$STAGE" && find . -type f)
[ -z "$left" ] || fail "left after uninstall: $left"
echo "ok: uninstall removed them"
