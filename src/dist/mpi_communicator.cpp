// MpiCommunicator: the Communicator calls mapped one to one onto MPI collectives on doubles.
#include "bnorm/mpi_communicator.hpp"

#include <string>

#include "bnorm/error.hpp"

namespace bnorm {
namespace {

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string("[MpiCommunicator] expected ") + call + " to succeed, got " +
              std::string(text, static_cast<size_t>(length)));
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    throw Error(
        "[MpiCommunicator] expected MPI to be initialized, got MPI_Init not called yet "
        "(call MPI_Init first)");
  }
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void MpiCommunicator::all_reduce_sum(std::span<double> data) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_DOUBLE,
                          MPI_SUM, comm_),
            "MPI_Allreduce");
}

void MpiCommunicator::all_gather(std::span<const double> in, std::span<double> out) {
  if (out.size() != in.size() * static_cast<size_t>(size_)) {
    throw Error("[MpiCommunicator] expected all_gather's out to hold size() * in.size() = " +
                std::to_string(in.size() * static_cast<size_t>(size_)) + " values, got " +
                std::to_string(out.size()));
  }
  check_mpi(MPI_Allgather(in.data(), static_cast<int>(in.size()), MPI_DOUBLE, out.data(),
                          static_cast<int>(in.size()), MPI_DOUBLE, comm_),
            "MPI_Allgather");
}

}  // namespace bnorm
