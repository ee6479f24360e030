#!/bin/sh
# Steps per second and traffic of data-parallel `bnorm fig1`: 1 process, then mpirun -np 2 and
# -np 3 --oversubscribe, each rank on one thread. Prints the wall time fig1 reports (both networks,
# evaluations at step 0 and the last step included) and rank 0's collective calls and bytes per
# SGD step (BNORM_COMM_STATS=1; the first BN forward's signature all-gathers included).
# Usage: bench/scripts/data_parallel_steps.sh [BNORM] [STEPS]   (default build/release/tools/bnorm/bnorm 500)
set -eu
bnorm=${1:-build/release/tools/bnorm/bnorm}
steps=${2:-500}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 BNORM_COMM_STATS=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
args="fig1 --steps $steps --eval-every $steps --lr 0.3 --grayscale --probe-size 100 --quiet --jobs 1"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(getconf _NPROCESSORS_ONLN) cores (shared machine)"
for np in 1 2 3; do
  if [ "$np" -eq 1 ]; then
    "$bnorm" $args --out "$out/np1" >"$out/log" 2>&1
  else
    mpiexec -np "$np" --oversubscribe "$bnorm" $args --out "$out/np$np" >"$out/log" 2>&1
  fi
  # "fig1: mnist, 500 steps x 60, lr 0.3, 12.6 s" and "comm (rank 0 of 2): A all-reduce calls, G all-gather calls, B bytes sent"
  awk -v np="$np" -v steps="$steps" '
    /^fig1:/ { wall = $(NF - 1) }
    /^comm/ { ar = $6; ag = $9; bytes = $12 }
    END { sgd = 2 * steps
          printf "%d rank%s: %.1f s, %.0f SGD steps/s (both networks)", np, (np > 1 ? "s" : " "), wall, sgd / wall
          if (np + 0 > 1) printf "; per step: %.2f all-reduces, %.2f all-gathers, %.0f bytes sent", ar / sgd, ag / sgd, bytes / sgd
          printf "\n" }' "$out/log"
done
