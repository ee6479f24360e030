// Data-parallel training pieces: which rows of a global batch a rank trains on, the gradient
// all-reduce that makes every rank take the same SGD step, and the switch that makes a network's
// BatchNorm layers normalize with the global batch's statistics (SyncBatchNorm).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bnorm/communicator.hpp"
#include "nn/layer.hpp"
#include "nn/sequential.hpp"

namespace bnorm::optim {

// Rows [begin, begin + count) of a global batch. The first batch % ranks ranks get one row more,
// so 60 rows over 7 ranks are 9, 9, 9, 9, 8, 8, 8 and the shards cover the batch in rank order.
struct Shard {
  int64_t begin = 0;
  int64_t count = 0;
};
// Throws bnorm::Error unless batch >= 0 and 0 <= rank < ranks.
Shard batch_shard(int64_t batch, int rank, int ranks);

// Sums every parameter's gradient over the ranks of comm in one all-reduce call (in double, so the
// sum of K float gradients is rounded once; the unrounded grad_sum where a layer keeps one), plus a
// few extra values the caller sends along (the training loss). Every rank must hold the same
// parameter shapes.
class GradientAllReduce {
 public:
  // Keeps the views (the parameters must outlive this) and comm.
  GradientAllReduce(std::vector<nn::Parameter> parameters, Communicator& comm);

  // grad = sum over ranks of grad, for every parameter; extra[i] likewise, in the same call.
  void run(std::span<double> extra = {});

  // What one run() sends per rank: every gradient element and the extras, as doubles.
  int64_t doubles_per_call(size_t extras) const { return gradient_values_ + int64_t(extras); }
  int64_t calls() const { return calls_; }

 private:
  std::vector<nn::Parameter> parameters_;
  Communicator* comm_;
  int64_t gradient_values_ = 0;
  int64_t calls_ = 0;
  std::vector<double> buffer_;  // [gradient_values_ + extras]
};

// Makes every BatchNormLayer and ChannelBatchNormLayer of net normalize with the statistics of the
// global batch over comm (their parameters and running statistics carry over). Call it before
// the optimizer takes net.parameters(): the layers' parameter views move. Returns the number of
// layers switched.
int synchronize_batch_norm(nn::Sequential& net, Communicator& comm);

}  // namespace bnorm::optim
