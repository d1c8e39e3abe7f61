#!/usr/bin/env bash
# doc_commands.sh: every command of README.md and docs/*.md runs as written.
#
# The commands are the lines of the fenced blocks whose info string starts with `sh` (a line ending
# in `\` continues on the next). The second word of the info string says how the test treats them:
#   ```sh          run as written; each must exit 0.
#   ```sh long     too long to run here (hours on the real data, or many epochs): a
#                  `vibrun SCRIPT.lua ...` line runs with --list added (the script, its --set keys
#                  and values and the options are checked, nothing trains); any other line is
#                  only parsed (bash -n).
#   ```sh notest   not run, with the reason in the text around it (make demo and make check build
#                  and test the checkout; `data get` needs the network; `--submit` needs Slurm);
#                  parsed only.
# A block whose info string is `files` lists paths (the first word of each line) that the commands
# before it in the same page must have written; `<...>` in a path matches any one name.
#
# The commands run in a scratch directory that looks like a fresh clone after the build (the
# checkout's experiments/, build/vibrun), in document order: README.md first, then docs/*.md by
# name, each page in a scratch directory of its own. VIB_DATA points at small generated data sets
# (fashion-mnist, mnist, cifar10 and tishby in their official formats, a few hundred examples
# each), so that a command that trains on the real data runs in seconds and checks the same code
# path; HOME is the scratch directory, so nothing is written outside it.
# Env: VIBRUN (the binary), VIB_SOURCE (the source tree); ctest sets both.
set -u

VIBRUN=${VIBRUN:?set VIBRUN to the vibrun binary}
VIB_SOURCE=${VIB_SOURCE:?set VIB_SOURCE to the source tree}
T=$(mktemp -d /tmp/vib-doc.XXXXXX) || { echo "FAIL: mktemp"; exit 1; }
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ---- small data sets in the official formats ----
export VIB_DATA="$T/data" HOME="$T/home" OPENBLAS_NUM_THREADS=1
mkdir -p "$VIB_DATA" "$HOME"
perl -e '
  use strict; my $d = $ARGV[0];
  sub put { my ($path, $bytes) = @_; open(my $f, ">:raw", $path) or die "$path: $!"; print $f $bytes; close $f; }
  # IDX: n images of 28x28 whose pixels depend on the label, and the labels.
  sub idx { my ($dir, $split, $n) = @_;
    my ($img, $lab) = (pack("NNNN", 0x803, $n, 28, 28), pack("NN", 0x801, $n));
    for my $i (0 .. $n - 1) { my $y = ($i * 7) % 10; $lab .= pack("C", $y);
      $img .= pack("C*", map { ($_ * 13 + $y * 29 + $i * 3) % 256 } 0 .. 783); }
    put("$dir/$split-images-idx3-ubyte", $img); put("$dir/$split-labels-idx1-ubyte", $lab); }
  for my $name ("fashion-mnist", "mnist") { mkdir "$d/$name"; idx("$d/$name", "train", 300); idx("$d/$name", "t10k", 100); }
  # CIFAR-10 binary batches: 1 label byte and 3072 pixel bytes per record.
  mkdir "$d/cifar10";
  for my $b ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch") {
    my $s = ""; for my $i (0 .. 39) { my $y = ($i * 3) % 10;
      $s .= pack("C", $y) . pack("C*", map { ($_ * 5 + $y * 31 + $i) % 256 } 0 .. 3071); }
    put("$d/cifar10/$b.bin", $s); }
  # The 12-bit task as var_u.csv: the 4,096 patterns, the label a fixed function of them.
  mkdir "$d/tishby"; my $c = join(",", map { "x$_" } 1 .. 12) . ",y\n";
  for my $i (0 .. 4095) { my @x = map { ($i >> (11 - $_)) & 1 } 0 .. 11;
    my $s = 0; $s += $_ for @x; $c .= join(",", @x, ($s % 3 == 0) ? 1 : 0) . "\n"; }
  put("$d/tishby/var_u.csv", $c);
' "$VIB_DATA" || { echo "FAIL: generating the data sets"; exit 1; }

# ---- the commands ----
# extract FILE: one record per command or file list, "KIND<TAB>LINE<TAB>TEXT", KIND being run,
# long, notest or files.
extract() {
  awk '
    /^```/ {
      if (!inside) { inside = 1; kind = ""; split(substr($0, 4), w, " ");
        if (w[1] == "sh") kind = (w[2] == "" ? "run" : w[2]); else if (w[1] == "files") kind = "files";
        next }
      inside = 0; kind = ""; next }
    inside && kind != "" {
      line = $0
      if (cont != "") { text = text " " line; } else { text = line; start = NR }
      if (kind != "files" && sub(/\\$/, "", text)) { cont = "y"; next }
      cont = ""
      if (text ~ /^[ \t]*(#|$)/) next
      printf "%s\t%d\t%s\n", kind, start, text }
  ' "$1"
}

run_page() {   # run_page PAGE: its commands in a scratch copy of a fresh clone after the build
  local page=$1 rel=${1#"$VIB_SOURCE"/} w kind line text out rc n=0
  local t0=$SECONDS
  w=$(mktemp -d "$T/page.XXXXXX")
  ln -s "$VIB_SOURCE/experiments" "$w/experiments"
  mkdir "$w/build" && ln -s "$VIBRUN" "$w/build/vibrun"
  while IFS=$'\t' read -r kind line text; do
    n=$((n + 1))
    case $kind in
      run)
        local t1=$SECONDS
        out=$(cd "$w" && PATH="$w/build:$PATH" timeout 120 bash -c "$text" 2>&1 < /dev/null)
        rc=$?
        [ -z "${DOC_TIMES:-}" ] || echo "  $((SECONDS - t1)) s  $text"
        [ "$rc" = 0 ] || { fail "$rel:$line: exit $rc: $text"; printf '%s\n' "$out" | tail -n 15; } ;;
      long)
        if [[ $text =~ ^(build/)?vibrun\ [^\ ]+\.lua ]] && [[ ! $text =~ \ --(merge|resume)( |$) ]]; then
          # a comment after the command goes; the options stay
          local cmd=${text%%#*}
          out=$(cd "$w" && PATH="$w/build:$PATH" timeout 120 bash -c "$cmd --list" 2>&1 < /dev/null)
          rc=$?
          [ "$rc" = 0 ] || { fail "$rel:$line: exit $rc with --list: $text"; printf '%s\n' "$out" | tail -n 15; }
        elif ! bash -n -c "$text" 2>/dev/null; then fail "$rel:$line: not a shell command: $text"; fi ;;
      notest)
        bash -n -c "$text" 2>/dev/null || fail "$rel:$line: not a shell command: $text" ;;
      files)
        local path=${text%%[ $'\t']*}
        path=$(printf '%s' "$path" | sed 's/<[^>]*>/*/g')
        if ! (cd "$w" && compgen -G "$path" > /dev/null); then fail "$rel:$line: not written: $path"; fi ;;
      *) fail "$rel:$line: unknown block kind '$kind' (sh, sh long, sh notest, files)" ;;
    esac
  done < <(extract "$page")
  echo "$rel: $n commands and paths, $((SECONDS - t0)) s"
}

[ -f "$VIB_SOURCE/README.md" ] || { echo "FAIL: no README.md in $VIB_SOURCE"; exit 1; }
n_run=$(extract "$VIB_SOURCE/README.md" | grep -c '^run')
[ "$n_run" -ge 5 ] || fail "README.md has only $n_run commands to run; the extractor lost them"
for page in "$VIB_SOURCE/README.md" "$VIB_SOURCE"/docs/*.md; do
  [ -f "$page" ] && run_page "$page"
done
# Every relative link of a page names a file of the checkout.
for page in "$VIB_SOURCE/README.md" "$VIB_SOURCE"/docs/*.md; do
  [ -f "$page" ] || continue
  dir=$(dirname "$page")
  while read -r link; do
    target=${link%%#*} anchor=${link#"$target"}
    file=$page; [ -z "$target" ] || file=$dir/$target
    if [ ! -e "$file" ]; then fail "${page#"$VIB_SOURCE"/}: link to a missing file: $link"; continue; fi
    # an anchor is a heading's GitHub id: lower case, spaces to '-', punctuation but '-' and '_' gone
    [ -z "$anchor" ] || grep '^#' "$file" | sed 's/^#* *//' | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9 _-]//g; s/ /-/g' |
      grep -qx -- "${anchor#\#}" || fail "${page#"$VIB_SOURCE"/}: link to a missing heading: $link"
  done < <(grep -o '\]([^)]*)' "$page" | sed 's/^](//; s/)$//' | grep -v '^[a-z]*:')
done
[ "$fails" = 0 ] || { echo "$fails failures"; exit 1; }
echo "PASS"
