#!/bin/sh
# Runs one mpi test: run_mpi.sh MPIEXEC NP EXPECT PROGRAM MODE. EXPECT "pass": the job must exit 0;
# "killed": the job must end non-zero within 30 s after a rank killed itself (timeout's 124 = hang).
# Open MPI refuses root without these (CI runs as root); ranks > cores needs --oversubscribe.
set -u
mpiexec=$1 np=$2 expect=$3 program=$4 mode=$5
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
# Open MPI's own allocations are not ours to check under LeakSanitizer.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
log=$(mktemp)
timeout 30 "$mpiexec" -np "$np" --oversubscribe "$program" "$mode" >"$log" 2>&1
rc=$?
cat "$log"
case "$expect" in
  pass) [ "$rc" -eq 0 ] || { echo "FAIL: exit $rc"; rm -f "$log"; exit 1; } ;;
  killed)
    grep -q "SIGKILL at step 5" "$log" || { echo "FAIL: rank 1 never killed itself"; rm -f "$log"; exit 1; }
    if [ "$rc" -eq 124 ]; then echo "FAIL: the other ranks still ran after 30 s"; rm -f "$log"; exit 1; fi
    [ "$rc" -ne 0 ] || { echo "FAIL: exit 0 after a rank was killed"; rm -f "$log"; exit 1; }
    echo "job ended with exit $rc after rank 1 was killed" ;;
esac
rm -f "$log"
