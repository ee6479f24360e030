// A Communicator over Open MPI (any MPI-3 library): target bnorm::bnorm_mpi, built when CMake finds
// MPI. The caller initializes and finalizes MPI (MPI_Init / MPI_Finalize) around its use.
#pragma once

#include <mpi.h>

#include "bnorm/communicator.hpp"

namespace bnorm {

// Collectives on `comm` (default MPI_COMM_WORLD; not duplicated, not freed). Errors follow the
// communicator's MPI error handler: with MPI's default (MPI_ERRORS_ARE_FATAL) a failed collective,
// or a rank that died, ends the whole job through mpirun; with MPI_ERRORS_RETURN a failing call
// throws bnorm::Error naming the MPI error.
class MpiCommunicator final : public Communicator {
 public:
  // Throws bnorm::Error when MPI is not initialized.
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(std::span<double> data) override;
  void all_gather(std::span<const double> in, std::span<double> out) override;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace bnorm
