// Data-parallel training: batch shards, the gradient all-reduce, synchronized BatchNorm layers.
#include "optim/data_parallel.hpp"

#include "check.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/conv/channel_batch_norm_layer.hpp"

namespace bnorm::optim {

Shard batch_shard(int64_t batch, int rank, int ranks) {
  detail::check(batch >= 0 && ranks >= 1 && rank >= 0 && rank < ranks, "batch_shard",
                "expected batch >= 0 and 0 <= rank < ranks, got batch ", batch, ", rank ", rank,
                " of ", ranks);
  const int64_t base = batch / ranks;
  const int64_t extra = batch % ranks;  // ranks [0, extra) hold one more row
  return {.begin = rank * base + std::min<int64_t>(rank, extra),
          .count = base + (rank < extra ? 1 : 0)};
}

GradientAllReduce::GradientAllReduce(std::vector<nn::Parameter> parameters, Communicator& comm)
    : parameters_(std::move(parameters)), comm_(&comm) {
  for (const nn::Parameter& p : parameters_)
    gradient_values_ += static_cast<int64_t>(p.grad.size());
}

void GradientAllReduce::run(std::span<double> extra) {
  buffer_.resize(static_cast<size_t>(gradient_values_) + extra.size());
  size_t at = 0;
  for (const nn::Parameter& p : parameters_) {
    if (!p.grad_sum.empty()) {
      for (double g : p.grad_sum) buffer_[at++] = g;
    } else {
      for (float g : p.grad) buffer_[at++] = g;
    }
  }
  for (double e : extra) buffer_[at++] = e;
  comm_->all_reduce_sum(buffer_);
  at = 0;
  for (const nn::Parameter& p : parameters_) {
    for (size_t i = 0; i < p.grad.size(); ++i) {
      if (!p.grad_sum.empty()) p.grad_sum[i] = buffer_[at];
      p.grad[i] = static_cast<float>(buffer_[at++]);
    }
  }
  for (double& e : extra) e = buffer_[at++];
  ++calls_;
}

int synchronize_batch_norm(nn::Sequential& net, Communicator& comm) {
  int switched = 0;
  for (size_t i = 0; i < net.size(); ++i) {
    if (auto* bn = dynamic_cast<nn::BatchNormLayer*>(&net.layer(i))) {
      bn->synchronize(comm);
      ++switched;
    } else if (auto* cbn = dynamic_cast<nn::ChannelBatchNormLayer*>(&net.layer(i))) {
      cbn->synchronize(comm);
      ++switched;
    }
  }
  return switched;
}

}  // namespace bnorm::optim
