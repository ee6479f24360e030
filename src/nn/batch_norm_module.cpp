// BatchNormModule: forwards to the plain or the synchronized BatchNorm.
#include "nn/batch_norm_module.hpp"

#include <algorithm>

namespace bnorm::nn {

void BatchNormModule::synchronize(Communicator& comm) {
  if (sync_) return;
  sync_ = std::make_unique<SyncBatchNorm<float>>(bn_.options(), comm);
  BatchNorm<float>& to = sync_->local();
  std::ranges::copy(bn_.gamma(), to.gamma().begin());
  std::ranges::copy(bn_.beta(), to.beta().begin());
  std::ranges::copy(bn_.running_mean(), to.running_mean().begin());
  std::ranges::copy(bn_.running_var(), to.running_var().begin());
  to.set_num_batches_tracked(bn_.num_batches_tracked());
}

void BatchNormModule::forward(std::span<const float> x, const TensorDesc& desc, std::span<float> y,
                              Mode mode) {
  if (sync_) {
    sync_->forward(x, desc, y, mode);
  } else {
    bn_.forward(x, desc, y, mode);
  }
}

void BatchNormModule::backward(std::span<const float> x, std::span<const float> dy,
                               std::span<float> dx) {
  if (sync_) {
    sync_->backward(x, dy, dx);
  } else {
    bn_.backward(x, dy, dx);
  }
}

}  // namespace bnorm::nn
