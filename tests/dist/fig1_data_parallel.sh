#!/bin/sh
# Data-parallel `bnorm fig1` under mpirun against one process (a test labelled mpi):
#   fig1_data_parallel.sh MPIEXEC BNORM MODE STEPS
# match: mpirun -np 2 (synchronized BN) gives both networks' accuracy within 0.1 pp and loss
#        within 1e-4 relative of one process at every evaluation;
# local: with --bn-sync local the BN network's curve measurably differs;
# kill:  SIGKILL one rank mid-run; the job must end non-zero within 30 s.
set -u
mpiexec=$1 bnorm=$2 mode=$3 steps=$4
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args="fig1 --steps $steps --lr 0.3 --grayscale --eval-every ${EVAL_EVERY:-100} --probe-size 100 --quiet"

# Per network (baseline, BN): the largest accuracy difference (pp) and relative loss difference
# over every evaluation of a.csv against b.csv (step 0's loss is nan in both).
compare() {
  awk -F, 'NR == FNR { for (i = 2; i <= 5; ++i) ref[FNR, i] = $i; next }
    function abs(v) { return v < 0 ? -v : v }
    function rel(a, b) { return (a == "nan" || b == "nan") ? (a == b ? 0 : 1e9) : abs(a - b) / abs(b) }
    FNR > 1 { rows++
      for (n = 0; n < 2; ++n) {
        d = abs($(2 + n) - ref[FNR, 2 + n]) * 100; if (d > acc[n]) acc[n] = d
        d = rel($(4 + n), ref[FNR, 4 + n]); if (d > loss[n]) loss[n] = d } }
    END { printf "%d evaluations: baseline %.4f pp %.3g rel, BN %.4f pp %.3g rel\n",
                 rows, acc[0], loss[0], acc[1], loss[1] }' "$1" "$2"
}

case "$mode" in
  match|local)
    "$bnorm" $args --jobs 1 --out "$dir/one" >/dev/null || { echo "FAIL: one-process run"; exit 1; }
    sync=global; [ "$mode" = local ] && sync=local
    # A bound for a hang, not for speed: a loaded 2-core machine has taken 245 s.
    timeout 400 "$mpiexec" -np 2 --oversubscribe "$bnorm" $args --bn-sync $sync --out "$dir/two" \
      >"$dir/log" 2>&1 || { rc=$?; cat "$dir/log"; echo "FAIL: mpirun -np 2 exited $rc"; exit 1; }
    result=$(compare "$dir/two/metrics.csv" "$dir/one/metrics.csv")
    echo "np 2, --bn-sync $sync vs one process, $steps steps: $result"
    # The baseline has no BN: it trains the same in both modes and must match in both.
    echo "$result" | awk -v mode="$mode" '{ base_acc = $4; base_loss = $6; bn_acc = $9; bn_loss = $11
      if (base_acc > 0.1 || base_loss > 1e-4) exit 1
      if (mode == "match" && (bn_acc > 0.1 || bn_loss > 1e-4)) exit 1
      if (mode == "local" && !(bn_acc > 0.1 || bn_loss > 1e-3)) exit 1 }' ||
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
