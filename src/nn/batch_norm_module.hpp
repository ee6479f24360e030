// The BatchNorm an engine layer wraps: a plain bnorm::BatchNorm<float>, or, after synchronize(),
// a SyncBatchNorm that normalizes with the statistics of the global batch of data-parallel ranks.
// BatchNormLayer and ChannelBatchNormLayer hold one, so both switch the same way.
#pragma once

#include <memory>
#include <span>

#include "bnorm/batch_norm.hpp"
#include "bnorm/communicator.hpp"
#include "bnorm/sync_batch_norm.hpp"

namespace bnorm::nn {

class BatchNormModule {
 public:
  explicit BatchNormModule(const BatchNormOptions& options) : bn_(options) {}

  // From now on batch modes merge statistics over comm (which must outlive this). Parameters,
  // running statistics and num_batches_tracked carry over; views taken before (module().gamma(),
  // an optimizer's parameters) dangle, so call it before building the optimizer.
  void synchronize(Communicator& comm);
  bool synchronized() const { return sync_ != nullptr; }

  // The module holding parameters, gradients and running statistics (the synchronized one's local
  // BatchNorm after synchronize()).
  BatchNorm<float>& module() { return sync_ ? sync_->local() : bn_; }
  const BatchNorm<float>& module() const { return sync_ ? sync_->local() : bn_; }

  void forward(std::span<const float> x, const TensorDesc& desc, std::span<float> y, Mode mode);
  void backward(std::span<const float> x, std::span<const float> dy, std::span<float> dx);

 private:
  BatchNorm<float> bn_;
  std::unique_ptr<SyncBatchNorm<float>> sync_;
};

}  // namespace bnorm::nn
