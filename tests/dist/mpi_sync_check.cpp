// The synchronized-BatchNorm checks under a real launcher: `mpirun -np K mpi_sync_check MODE`.
//   equivalence: every case of sync_check.hpp, float and double, against one process; exit 1 on
//                any mismatch.
//   mismatch:    the last rank builds its module with one channel more; every rank must throw the
//                same one-line error (compared across ranks), exit 0 only then.
//   mismatch-later: one good training step, then the last rank's input has one spatial value
//                more; the same check (the signature then rides along with the moments).
//   kill:        ranks train forever; rank 1 sends itself SIGKILL at step 5. The launcher must end
//                the others (run_mpi.sh checks it does so with a non-zero exit, in time).
#include <mpi.h>

#include <array>
#include <bnorm/error.hpp>
#include <bnorm/mpi_communicator.hpp>
#include <bnorm/sync_batch_norm.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "sync_check.hpp"

namespace {

using namespace bnorm;

int equivalence(MpiCommunicator& comm) {
  int failures = 0, checks = 0;
  const auto cases = test::sync_cases(comm.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    for (const std::string& failure :
         {test::check_sync_equivalence<double>(comm, cases[i], 7 + i),
          test::check_sync_equivalence<float>(comm, cases[i], 7 + i)}) {
      ++checks;
      if (!failure.empty()) {
        std::fprintf(stderr, "FAIL rank %d: %s\n", comm.rank(), failure.c_str());
        ++failures;
      }
    }
  }
  std::array<double, 1> total = {static_cast<double>(failures)};
  comm.all_reduce_sum(total);
  if (comm.rank() == 0) {
    std::printf("%d ranks: %d checks per rank, %d failures over all ranks\n", comm.size(), checks,
                static_cast<int>(total[0]));
  }
  return total[0] == 0 ? 0 : 1;
}

// Every rank must hold the same one-line error containing needle (compared through MPI itself).
int same_error_everywhere(MpiCommunicator& comm, const std::string& error,
                          const std::string& needle) {
  constexpr int kMax = 512;
  std::vector<char> mine(kMax, 0), all(static_cast<size_t>(kMax * comm.size()));
  std::strncpy(mine.data(), error.c_str(), kMax - 1);
  MPI_Allgather(mine.data(), kMax, MPI_CHAR, all.data(), kMax, MPI_CHAR, MPI_COMM_WORLD);
  bool ok = error.find(needle) != std::string::npos;
  for (int r = 0; r < comm.size(); ++r)
    ok = ok && std::strcmp(all.data() + r * kMax, mine.data()) == 0;
  std::printf("rank %d: %s: %s\n", comm.rank(), ok ? "same error on every rank" : "FAIL",
              error.c_str());
  return ok ? 0 : 1;
}

int mismatch(MpiCommunicator& comm, bool later) {
  const bool last = comm.rank() == comm.size() - 1;
  const int64_t c = !later && last ? 5 : 4;
  const int64_t spatial = later && last ? 4 : 3;
  std::string error = "(no error)";
  try {
    SyncBatchNorm<double> bn({.num_features = c}, comm);
    std::vector<double> x(static_cast<size_t>(2 * c * spatial), 1.0), y(x.size());
    x[0] = 2.0;
    if (later) {  // a good step first: the module's ranks have agreed
      const std::span<const double> x3(x.data(), static_cast<size_t>(2 * c * 3));
      bn.forward(x3, {{2, c, 3}, Layout::kChannelsFirst}, std::span<double>(y.data(), x3.size()),
                 Mode::kTrain);
      bn.backward(x3, std::span<const double>(y.data(), x3.size()), {});
    }
    bn.forward(x, {{2, c, spatial}, Layout::kChannelsFirst}, y, Mode::kTrain);
  } catch (const Error& e) {
    error = e.what();
  }
  return same_error_everywhere(comm, error,
                               later ? "expected every rank to agree on dims[2]"
                                     : "expected every rank to agree on channels");
}

[[noreturn]] void kill_mid_run(MpiCommunicator& comm) {
  SyncBatchNorm<float> bn({.num_features = 8}, comm);
  const TensorDesc desc{{4, 8, 5}, Layout::kChannelsFirst};
  std::vector<float> x(4 * 8 * 5), y(x.size()), dx(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 11);
  for (long step = 0;; ++step) {
    if (comm.rank() == 1 && step == 5) {
      std::printf("rank 1: SIGKILL at step 5\n");
      std::fflush(stdout);
      std::raise(SIGKILL);
    }
    bn.forward(x, desc, y, Mode::kTrain);
    bn.backward(x, y, dx);
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const std::string mode = argc > 1 ? argv[1] : "";
  int rc = 2;
  {
    MpiCommunicator comm;
    if (mode == "equivalence") rc = equivalence(comm);
    if (mode == "mismatch") rc = mismatch(comm, false);
    if (mode == "mismatch-later") rc = mismatch(comm, true);
    if (mode == "kill") kill_mid_run(comm);
    if (rc == 2)
      std::fprintf(stderr, "usage: mpi_sync_check equivalence|mismatch|mismatch-later|kill\n");
  }
  MPI_Finalize();
  return rc;
}
