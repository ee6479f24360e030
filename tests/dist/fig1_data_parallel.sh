#!/bin/sh
# Data-parallel `bnorm fig1` under mpirun against one process (a test labelled mpi):
#   fig1_data_parallel.sh MPIEXEC BNORM MODE STEPS
# match:  mpirun -np 2 (synchronized BN) gives every evaluation's accuracies within 0.1 pp and
#         losses within 1e-4 relative of one process; local: with --bn-sync local the BN network's
#         curve measurably differs; kill: SIGKILL one rank mid-run, the job ends non-zero in 30 s.
set -u
mpiexec=$1 bnorm=$2 mode=$3 steps=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args="fig1 --steps $steps --lr 0.3 --grayscale --eval-every 100 --probe-size 100 --quiet"

# Largest accuracy difference (pp) and relative loss difference over every evaluation of a.csv vs
# b.csv (columns acc_baseline, acc_bn, loss_baseline, loss_bn; step 0's loss is nan in both).
compare() {
  awk -F, 'NR == FNR { if (FNR > 1) { ab[FNR] = $2; an[FNR] = $3; lb[FNR] = $4; ln[FNR] = $5 }; next }
    function abs(v) { return v < 0 ? -v : v }
    function rel(a, b) { return (b == "nan" || a == "nan") ? (a == b ? 0 : 1e9) : abs(a - b) / abs(b) }
    FNR > 1 { rows++
      d = abs($2 - ab[FNR]) * 100; if (d > acc) acc = d
      d = abs($3 - an[FNR]) * 100; if (d > acc) acc = d
      d = rel($4, lb[FNR]); if (d > loss) loss = d
      d = rel($5, ln[FNR]); if (d > loss) loss = d }
    END { printf "%d evaluations: max accuracy difference %.4f pp, max loss difference %.3g relative\n", rows, acc, loss }' "$1" "$2"
}

case "$mode" in
  match|local)
    "$bnorm" $args --jobs 1 --out "$dir/one" >/dev/null || { echo "FAIL: one-process run"; exit 1; }
    sync=global; [ "$mode" = local ] && sync=local
    timeout 120 "$mpiexec" -np 2 --oversubscribe "$bnorm" $args --bn-sync $sync --out "$dir/two" \
      >"$dir/log" 2>&1 || { cat "$dir/log"; echo "FAIL: mpirun -np 2 exited $?"; exit 1; }
    result=$(compare "$dir/two/metrics.csv" "$dir/one/metrics.csv")
    echo "np 2, --bn-sync $sync vs one process, $steps steps: $result"
    echo "$result" | awk -v mode="$mode" '{ acc = $6; loss = $11
      if (mode == "match" && (acc > 0.1 || loss > 1e-4)) exit 1
      if (mode == "local" && !(acc > 0.1 || loss > 1e-3)) exit 1 }' ||
      { echo "FAIL: expected $( [ "$mode" = match ] && echo 'a match' || echo 'a measurable difference')"; exit 1; } ;;
  kill)
    "$mpiexec" -np 2 --oversubscribe "$bnorm" $args --out "$dir/two" >"$dir/log" 2>&1 &
    launcher=$!
    sleep 3
    victim=$(pgrep -P "$launcher" | tail -n 1)
    [ -n "$victim" ] || { cat "$dir/log"; echo "FAIL: no rank to kill (the run ended early?)"; exit 1; }
    kill -KILL "$victim"
    killed_at=$(date +%s)
    # Waits at most 30 s for the launcher to end; past that it is still hanging.
    while kill -0 "$launcher" 2>/dev/null; do
      [ $(( $(date +%s) - killed_at )) -le 30 ] || { kill -KILL "$launcher"; echo "FAIL: job still running 30 s after a rank was killed"; exit 1; }
      sleep 1
    done
    wait "$launcher"; rc=$?
    [ "$rc" -ne 0 ] || { echo "FAIL: exit 0 after a rank was killed"; exit 1; }
    echo "job ended with exit $rc within $(( $(date +%s) - killed_at )) s after rank pid $victim was killed" ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
