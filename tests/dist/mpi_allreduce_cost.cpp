// Measures the all-reduce cost model of docs/distributed.md on this machine: `mpirun -np K
// mpi_allreduce_cost` times MPI_Allreduce (sum of doubles, through MpiCommunicator) for message
// sizes from 8 B to 2 MiB: alpha is the 8-byte message's median time, beta the least-squares slope
// of the medians over the messages of 32 KiB and more (where the bytes dominate).
// Not a test: bench/scripts/allreduce_cost.sh runs it and prints what the docs quote.
#include <mpi.h>

#include <algorithm>
#include <bnorm/mpi_communicator.hpp>
#include <cstdio>
#include <vector>

namespace {

// Median seconds per call of an all-reduce of `count` doubles over `reps` calls, each call timed
// on its own after a barrier (rank 0's clock; every rank leaves the call at about the same time).
double median_seconds(bnorm::MpiCommunicator& comm, size_t count, int reps) {
  std::vector<double> data(count, 1.0), times;
  for (int i = 0; i < reps + 3; ++i) {  // the first 3 calls warm the transport up
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    comm.all_reduce_sum(data);
    if (i >= 3) times.push_back(MPI_Wtime() - start);
  }
  std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
  return times[static_cast<size_t>(reps / 2)];
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    bnorm::MpiCommunicator comm;
    std::vector<double> bytes, seconds;
    for (size_t count = 1; count <= (size_t{1} << 18); count *= 4) {
      const int reps = count <= 4096 ? 2001 : 101;
      const double t = median_seconds(comm, count, reps);
      bytes.push_back(static_cast<double>(count * sizeof(double)));
      seconds.push_back(t);
      if (comm.rank() == 0)
        std::printf("%2d ranks  %9zu bytes  %10.2f us  (median of %d)\n", comm.size(),
                    count * sizeof(double), t * 1e6, reps);
    }
    // Least squares t = a + b * bytes over the large messages; alpha from the smallest.
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] < 32768) continue;
      n += 1;
      sx += bytes[i];
      sy += seconds[i];
      sxx += bytes[i] * bytes[i];
      sxy += bytes[i] * seconds[i];
    }
    const double beta = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    if (comm.rank() == 0) {
      std::printf(
          "alpha = %.2f us (8-byte all-reduce), beta = %.3f ns/byte (%.2f GB/s, slope over "
          "32 KiB..2 MiB)\n",
          seconds[0] * 1e6, beta * 1e9, 1e-9 / beta);
    }
  }
  MPI_Finalize();
  return 0;
}
