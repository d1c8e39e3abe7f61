#!/usr/bin/env bash
# quick_digests.sh VIBRUN OUT_DIR: runs the quick setting of every shipped experiment (the one each
# script's header names, or --set epochs=1 on the real data) into OUT_DIR and prints one line per
# output file: its SHA-256 and its path under OUT_DIR. Timing logs are left out (they hold wall
# times); the run directory, the checkout and the data directory are replaced by <out>, <src> and
# <shared> in config.lua and the manifest, so checkouts in other folders compare. Compare the lines of two builds to show that a change kept every experiment's bytes:
#   tests/tools/quick_digests.sh build/vibrun /tmp/before > before.txt   # on the old commit
#   tests/tools/quick_digests.sh build/vibrun /tmp/after  > after.txt    # on the new one
#   diff before.txt after.txt
# Needs the data samples (VIB_SHARED, default ../shared beside the checkout) and Fashion-MNIST.
set -euo pipefail
vibrun=$(realpath "$1"); out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
shared=$(realpath "${VIB_SHARED:-$src/../shared}")/data
mn="--set data_dir=$shared/mnist-t10k --set resplit=0.8"
cf="--set data_dir=$shared/cifar-10-subset"
rm -rf "$out"; mkdir -p "$out"; out=$(realpath "$out")
# tishby is found as $VIB_DATA/tishby (a link to the sample), not by a search beside the checkout.
export VIB_DATA="$out/.data"; mkdir -p "$VIB_DATA"; ln -s "$shared/tishby-12bit" "$VIB_DATA/tishby"
cd "$src"
run() { "$vibrun" "$@" --out "$out" --quiet --threads 1 > /dev/null; }
run experiments/quickstart.lua --set epochs=2
run experiments/mlp_fashion.lua --set epochs=1
run experiments/vib_fashion.lua --set beta=1e-3 --set epochs=1
run experiments/vib_mnist.lua --set beta=1e-3 --set epochs=1 $mn
run experiments/vib_k2.lua --set beta=1e-3 --set epochs=1 $mn
run experiments/ceb_mnist.lua --set gamma=10 --set epochs=1 $mn
run experiments/nlib_mnist.lua --set beta=0.1 --set epochs=1 $mn
run experiments/baselines_mnist.lua --set kind=dropout --set epochs=1 $mn
run experiments/uib_mnist.lua --set kind=ib --set bound=logvar --set noise=true --set epochs=1 $mn
run experiments/vib_cifar.lua --set kind=vib --set beta=1e-3 --set epochs=1 --set train_limit=1000 $cf
run experiments/uib_cifar.lua --set kind=ib --set bound=logvar --set noise=true --set epochs=1 --set train_limit=1000 $cf
run experiments/imb_mnist.lua --set epochs=1 --set particles=4 --set eval_samples=4 --set eval_passes=2 $mn
run experiments/imb_cifar.lua --set kind=imb --set epochs=1 --set particles=4 --set eval_samples=4 --set eval_passes=2 --set train_limit=1000 $cf
run experiments/info_plane_mnist.lua --set model=vib --set epochs=1 --set samples=500
run experiments/tishby_12bit.lua --set act=tanh --set epochs=20 --set seed=1
run experiments/vib_discrete.lua --set epochs=5
cd "$out"
find . -path ./.data -prune -o -type f \( -name '*.csv' -o -name 'config.lua' -o -name 'manifest' -o -name '*.gp' \) \
     ! -name 'timing.csv' ! -name 'info_timing.csv' ! -name 'attack_timing.csv' -print | LC_ALL=C sort | while read -r f; do
  printf '%s  %s\n' "$(sed -e "s#$out#<out>#g" -e "s#$src#<src>#g" -e "s#$shared#<shared>#g" "$f" |
                       sha256sum | cut -d' ' -f1)" "$f"
done
