#!/bin/sh
# The all-reduce latency and bandwidth behind the cost model of docs/distributed.md, measured on
# this machine: Open MPI over shared memory, 2 ranks (and 3 on 2 cores with --oversubscribe).
# Usage: bench/scripts/allreduce_cost.sh [BUILD_DIR]   (default build/release; needs MPI)
set -eu
build=${1:-build/release}
program=$build/tests/dist/mpi_allreduce_cost
[ -x "$program" ] || { echo "error: $program not built (cmake --build --preset release --target mpi_allreduce_cost)"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(getconf _NPROCESSORS_ONLN) cores"
for np in 2 3; do
  mpiexec -np "$np" --oversubscribe "$program"
done
