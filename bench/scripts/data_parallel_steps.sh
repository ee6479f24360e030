#!/bin/sh
# Steps per second and traffic of data-parallel training: `bnorm fig1` (the paper's MLP) and
# `bnorm paper E3` (the paper's CNN, its seven models), 1 process, then mpirun -np 2 and -np 3
# --oversubscribe, each rank on one thread. Prints the wall time each reports (evaluations
# included: fig1's at step 0 and the last step, E3's ten on 100 test images) and rank 0's
# collective calls and bytes per SGD step (BNORM_COMM_STATS=1; the first BN forward's signature
# all-gathers included).
# Usage: bench/scripts/data_parallel_steps.sh [BNORM] [STEPS] [CNN_STEPS]
#        (default build/release/tools/bnorm/bnorm 500 100: fig1's steps, E3's steps per model)
set -eu
bnorm=${1:-build/release/tools/bnorm/bnorm}
steps=${2:-500}
cnn_steps=${3:-100}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 BNORM_COMM_STATS=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fig1="fig1 --steps $steps --eval-every $steps --lr 0.3 --grayscale --probe-size 100 --quiet --jobs 1"
cnn="paper E3 --quick --steps $cnn_steps --seeds 1 --test-limit 100 --quiet --jobs 1"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(getconf _NPROCESSORS_ONLN) cores (shared machine)"
# run NAME NETWORKS ARGS...: one line per rank count.
run() {
  name=$1 networks=$2 steps=$3
  shift 3
  for np in 1 2 3; do
    if [ "$np" -eq 1 ]; then
      "$bnorm" "$@" --out "$out/np1" >"$out/log" 2>&1
    else
      mpiexec -np "$np" --oversubscribe "$bnorm" "$@" --out "$out/np$np" >"$out/log" 2>&1
    fi
    # "fig1: mnist, 500 steps x 60, lr 0.3, 12.6 s", "E3         NOT reproduced (40.1 s)" and
    # "comm (rank 0 of 2): A all-reduce calls, G all-gather calls, B bytes sent"
    awk -v np="$np" -v steps="$steps" -v name="$name" -v networks="$networks" '
      /^fig1:/ { wall = $(NF - 1) }
      /^E3 / { wall = substr($(NF - 1), 2) + 0 }
      /^comm/ { ar = $6; ag = $9; bytes = $12 }
      END { sgd = networks * steps
            printf "%s, %d rank%s: %.1f s, %.0f SGD steps/s (%d networks)", name, np, (np > 1 ? "s" : " "), wall, sgd / wall, networks
            if (np + 0 > 1) printf "; per step: %.2f all-reduces, %.2f all-gathers, %.0f bytes sent", ar / sgd, ag / sgd, bytes / sgd
            printf "\n" }' "$out/log"
  done
}
run "fig1 MLP" 2 "$steps" $fig1
run "E3 CNN" 7 "$cnn_steps" $cnn
