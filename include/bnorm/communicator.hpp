// The collectives synchronized BatchNorm needs, over an existing transport (Open MPI, threads;
// torch.distributed on the Python side). bnorm writes no transport of its own: an implementation
// adapts one engine to these four calls.
#pragma once

#include <span>

namespace bnorm {

// One rank's handle on a group of `size()` ranks. Every rank must make the same sequence of
// collective calls with the same element counts (synchronized BatchNorm checks its own calls
// agree before making them; see sync_batch_norm.hpp). Implementations throw bnorm::Error when a
// collective fails, or terminate the process (MPI_ERRORS_ARE_FATAL) and let the launcher end the
// job.
class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;  // in [0, size())
  virtual int size() const = 0;  // >= 1

  // data[i] = sum over ranks of data[i], in place. Every rank passes the same data.size().
  virtual void all_reduce_sum(std::span<double> data) = 0;

  // out[r * in.size() + i] = rank r's in[i]. Every rank passes the same in.size(), and
  // out.size() == size() * in.size(). out must not overlap in.
  virtual void all_gather(std::span<const double> in, std::span<double> out) = 0;
};

}  // namespace bnorm
