// Data-parallel runs of the command line: started under `mpirun -np K` (K > 1), bnorm joins the
// MPI job and its subcommands train data-parallel over world(); started any other way, MPI is
// never initialized and world() is nullptr. Detected from the launcher's environment. With
// BNORM_COMM_STATS=1, rank 0 prints its collective calls and bytes sent at the end of the run.
#pragma once

#include "bnorm/communicator.hpp"

namespace bnorm::cli {

// Joins the MPI job when the environment says this process is one of K > 1 ranks; its destructor
// finalizes. Throws bnorm::Error when it is, but this build has no MPI or the subcommand
// (argv[1]) is neither fig1 nor paper, the ones that train data-parallel.
class DistributedSession {
 public:
  DistributedSession(int& argc, char**& argv);
  ~DistributedSession();
  DistributedSession(const DistributedSession&) = delete;
  DistributedSession& operator=(const DistributedSession&) = delete;

  // After an error on this rank: ends the whole job (the other ranks may be waiting in a
  // collective and would hang). Does nothing outside a data-parallel run.
  void abort_job(int exit_code);
};

// The world's communicator while a DistributedSession with K > 1 is alive, else nullptr.
Communicator* world();
// Whether this build can train data-parallel (it found MPI).
bool have_mpi();
// This process's rank in world(), 0 when there is none: only rank 0 writes files and prints.
inline int world_rank() { return world() != nullptr ? world()->rank() : 0; }

}  // namespace bnorm::cli
