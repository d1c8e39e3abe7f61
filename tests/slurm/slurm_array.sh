#!/usr/bin/env bash
# slurm_array.sh: the Slurm job array of a sweep, on a real single-node Slurm.
#
# Starts munged, slurmctld and slurmd (Debian's munge and slurm-wlm) on loopback, configured here
# in a temporary directory (a munge key, slurm.conf naming this host, state, spool, logs and pid
# files; proctrack/linuxproc and no cgroups), submits `vibrun slurm --tasks 2 --submit` for a
# 4-point sweep, waits for the array, runs `vibrun --merge`, and checks that results.csv and
# summary.csv equal a local run of the same sweep byte for byte. Every daemon it started is
# stopped on exit, whatever happens.
#
# Needs root (slurmd) and the packages. Where they are missing the test is skipped (exit 77),
# except under CI (VIB_CI=1), where it must run: there a missing piece is a failure.
# Env: VIBRUN (the binary), VIB_SOURCE (the source tree); ctest sets both.
set -u

SKIP=77
skip() {
  if [ -n "${VIB_CI:-}" ]; then echo "FAIL: $* (VIB_CI is set: CI must run this test)"; exit 1; fi
  echo "SKIP: $*"; exit $SKIP
}
fail() { echo "FAIL: $*"; dump_logs; exit 1; }

VIBRUN=${VIBRUN:?set VIBRUN to the vibrun binary}
VIB_SOURCE=${VIB_SOURCE:?set VIB_SOURCE to the source tree}
for b in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$b" >/dev/null 2>&1 || skip "$b not found (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || skip "slurmd must run as root here (run the test as root)"

HOST=""
T=$(mktemp -d /tmp/vib-slurm.XXXXXX) || fail "mktemp"
chmod 755 "$T"
PIDS=()
JOB=""
dump_logs() {
  for f in "$T"/munged.log "$T"/slurmctld.log "$T"/slurmd.log "$T"/work/runs/sweep_tiny/slurm/*.out; do
    [ -f "$f" ] && { echo "---- $f (last 30 lines)"; tail -n 30 "$f"; }
  done
}
cleanup() {
  [ -n "$JOB" ] && scancel --quiet "$JOB" 2>/dev/null
  # The job steps' slurmstepd (started by slurmd) remove their sockets from the spool as they end.
  for _ in $(seq 100); do compgen -G "$T/spool/${HOST:-none}_*" >/dev/null || break; sleep 0.1; done
  for _ in $(seq 50); do pgrep -x slurmstepd >/dev/null || break; sleep 0.1; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A free TCP port on loopback.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
  done
  echo 0
}

# ---- munge ----
mkdir -p "$T/munge" && chmod 711 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none && chmod 400 "$T/munge/munge.key"
SOCK="$T/munge/munge.sock"
munged --force --foreground --key-file="$T/munge/munge.key" --socket="$SOCK" --pid-file="$T/munge/munged.pid" \
       --log-file="$T/munged.log" --seed-file="$T/munge/munge.seed" >"$T/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || skip "munged did not start: $(tail -n 3 "$T/munged.log" 2>/dev/null)"

# ---- slurm ----
HOST=$(hostname -s)
NCPU=$(nproc)
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
[ "$CTLD_PORT" != 0 ] && [ "$SLURMD_PORT" != 0 ] && [ "$CTLD_PORT" != "$SLURMD_PORT" ] || skip "no free port on loopback"
mkdir -p "$T/state" "$T/spool"
cat > "$T/slurm.conf" <<CONF
ClusterName=vibtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=100 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" -N "$HOST" >"$T/slurmd.out" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 300); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1)
  [ "$state" = idle ] && break
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { cat "$T"/slurm*.out; skip "a Slurm daemon exited at start (see its log above)"; }; done
  sleep 0.2
done
[ "$state" = idle ] || { dump_logs; skip "the node did not become idle in 60 s (state '$state')"; }
echo "slurm up: node $HOST idle, $NCPU CPUs, slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT"

# ---- the sweep: 4 points (2 learning rates x 2 seeds) over 2 tasks ----
mkdir -p "$T/work" && cd "$T/work" || fail "cd"
# tiny.csv: three separable blobs in 4-D, from a fixed LCG (any data does: both runs read it).
awk 'BEGIN { s = 12345; print "x1,x2,x3,x4,y";
  for (i = 0; i < 300; i++) { y = i % 3; line = "";
    for (k = 0; k < 4; k++) { s = (s * 1103515245 + 12345) % 2147483648;
      line = line sprintf("%.4f,", (k == y ? 2 : 0) + s / 2147483648 - 0.5) }
    print line y } }' > tiny.csv
SCRIPT="$VIB_SOURCE/tests/lua/sweep_tiny.lua"
SETS=(--set replicates=2 --set hidden=4)
"$VIBRUN" "$SCRIPT" --quiet --out local "${SETS[@]}" || fail "the local run failed"
out=$("$VIBRUN" slurm "$SCRIPT" --tasks 2 --out runs "${SETS[@]}" --submit 2>&1) || fail "vibrun slurm --submit: $out"
echo "$out"
JOB=$(echo "$out" | sed -n 's/^submitted job \([0-9]*\).*/\1/p')
[ -n "$JOB" ] || fail "no job id in: $out"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
  sleep 0.2
done
[ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] || fail "the array $JOB did not finish in 120 s: $(squeue -j "$JOB")"
states=$(scontrol show job "$JOB" 2>/dev/null | sed -n 's/.*JobState=\([A-Z]*\).*/\1/p' | sort | uniq -c | tr -s ' ')
echo "array $JOB: $states"
[ "$(scontrol show job "$JOB" | grep -c 'JobState=COMPLETED')" = 2 ] || fail "expected 2 completed tasks: $states"
n=$(ls runs/sweep_tiny/*/result.csv 2>/dev/null | wc -l)
[ "$n" = 4 ] || fail "$n of 4 points have a result.csv"
[ ! -e runs/sweep_tiny/results.csv ] || fail "a shard wrote results.csv"
"$VIBRUN" "$SCRIPT" --merge --out runs "${SETS[@]}" || fail "--merge failed"
for f in results.csv summary.csv; do
  cmp "local/sweep_tiny/$f" "runs/sweep_tiny/$f" || fail "$f of the Slurm array differs from the local run"
done
for d in local/sweep_tiny/????????????/; do
  id=$(basename "$d")
  cmp "$d/metrics.csv" "runs/sweep_tiny/$id/metrics.csv" || fail "metrics.csv of $id differs"
  cmp "$d/checkpoint" "runs/sweep_tiny/$id/checkpoint" || fail "checkpoint of $id differs"
done
"$VIBRUN" status runs/sweep_tiny | head -n 1
echo "PASS: 4 points over 2 Slurm array tasks merge into the local run's results.csv, byte for byte"
