// DistributedSession: MPI_Init/MPI_Finalize around a data-parallel run, only under a launcher.
#include "distributed.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bnorm/error.hpp"

#ifdef BNORM_HAVE_MPI
#include <mpi.h>

#include "bnorm/mpi_communicator.hpp"
#endif

namespace bnorm::cli {
namespace {

// Forwards to the MPI communicator and counts what this rank sends, for BNORM_COMM_STATS.
class CountedCommunicator final : public Communicator {
 public:
  explicit CountedCommunicator(std::unique_ptr<Communicator> inner) : inner_(std::move(inner)) {}
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  void all_reduce_sum(std::span<double> data) override {
    ++all_reduces_;
    doubles_ += static_cast<int64_t>(data.size());
    inner_->all_reduce_sum(data);
  }
  void all_gather(std::span<const double> in, std::span<double> out) override {
    ++all_gathers_;
    doubles_ += static_cast<int64_t>(in.size());
    inner_->all_gather(in, out);
  }
  // One line on stderr: this rank's collective calls and bytes sent over the run.
  void print() const {
    std::fprintf(stderr,
                 "comm (rank %d of %d): %lld all-reduce calls, %lld all-gather calls, %lld bytes "
                 "sent\n",
                 rank(), size(), static_cast<long long>(all_reduces_),
                 static_cast<long long>(all_gathers_),
                 static_cast<long long>(doubles_ * static_cast<int64_t>(sizeof(double))));
  }

 private:
  std::unique_ptr<Communicator> inner_;
  int64_t all_reduces_ = 0, all_gathers_ = 0, doubles_ = 0;
};

std::unique_ptr<CountedCommunicator> g_world;  // set while a session with K > 1 is alive

// Ranks in the job per the launcher (Open MPI, or a PMI launcher such as MPICH's); 1 when none.
int launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(name)) return std::atoi(v);
  }
  return 1;
}

}  // namespace

bool have_mpi() {
#ifdef BNORM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Communicator* world() { return g_world.get(); }

DistributedSession::DistributedSession([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
  const int size = launcher_size();
  if (size <= 1) return;  // one process: nothing changes, MPI stays uninitialized
  // fig1 and paper train data-parallel (paper refuses the experiments that do not); K copies of
  // another command would race on its output.
  const std::string command = argc > 1 ? argv[1] : "";
  if (!command.empty() && command[0] != '-' && command != "fig1" && command != "paper")
    throw Error("[bnorm] expected fig1 or paper under a launcher job of " + std::to_string(size) +
                " ranks (data-parallel training), got " + command + ": run it without mpirun");
#ifdef BNORM_HAVE_MPI
  MPI_Init(&argc, &argv);
  g_world = std::make_unique<CountedCommunicator>(std::make_unique<MpiCommunicator>());
#else
  throw Error(
      "[bnorm] expected one process (this bnorm was built without MPI), got a launcher "
      "job of " +
      std::to_string(size) +
      " ranks: install libopenmpi-dev openmpi-bin and rebuild, or run without mpirun");
#endif
}

DistributedSession::~DistributedSession() {
#ifdef BNORM_HAVE_MPI
  if (g_world) {
    const char* stats = std::getenv("BNORM_COMM_STATS");
    if (stats != nullptr && std::string(stats) == "1" && g_world->rank() == 0) g_world->print();
    g_world.reset();
    MPI_Finalize();
  }
#endif
}

void DistributedSession::abort_job([[maybe_unused]] int exit_code) {
#ifdef BNORM_HAVE_MPI
  if (g_world) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
}

}  // namespace bnorm::cli
