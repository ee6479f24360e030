// BatchNormModule: forwards to the plain, synchronized, renorm or ghost BatchNorm.
#include "nn/batch_norm_module.hpp"

#include <algorithm>

#include "check.hpp"

namespace bnorm::nn {

std::string_view to_string(Normalization::Kind kind) {
  switch (kind) {
    case Normalization::Kind::kPlain:
      return "plain";
    case Normalization::Kind::kRenorm:
      return "renorm";
    case Normalization::Kind::kGhost:
      return "ghost";
  }
  return "unknown";
}

BatchNormModule::BatchNormModule(const BatchNormOptions& options, const Normalization& norm)
    : norm_(norm) {
  switch (norm.kind) {
    case Normalization::Kind::kPlain:
      bn_ = std::make_unique<BatchNorm<float>>(options);
      break;
    case Normalization::Kind::kRenorm:
      renorm_ = std::make_unique<BatchRenorm<float>>(options, norm.renorm);
      break;
    case Normalization::Kind::kGhost:
      ghost_ = std::make_unique<GhostBatchNorm<float>>(options, norm.ghost_batch_size);
      break;
  }
}

BatchNorm<float>& BatchNormModule::module() {
  if (sync_) return sync_->local();
  if (renorm_) return renorm_->base();
  if (ghost_) return ghost_->base();
  return *bn_;
}

const BatchNorm<float>& BatchNormModule::module() const {
  return const_cast<BatchNormModule*>(this)->module();
}

void BatchNormModule::synchronize(Communicator& comm) {
  if (sync_) return;
  detail::check(bn_ != nullptr, "BatchNormModule::synchronize",
                "expected a plain BatchNorm (synchronized statistics are BatchNorm's), got ",
                to_string(norm_.kind));
  sync_ = std::make_unique<SyncBatchNorm<float>>(bn_->options(), comm);
  BatchNorm<float>& to = sync_->local();
  std::ranges::copy(bn_->gamma(), to.gamma().begin());
  std::ranges::copy(bn_->beta(), to.beta().begin());
  std::ranges::copy(bn_->running_mean(), to.running_mean().begin());
  std::ranges::copy(bn_->running_var(), to.running_var().begin());
  to.set_num_batches_tracked(bn_->num_batches_tracked());
}

void BatchNormModule::forward(std::span<const float> x, const TensorDesc& desc, std::span<float> y,
                              Mode mode) {
  if (sync_) {
    sync_->forward(x, desc, y, mode);
  } else if (renorm_) {
    renorm_->forward(x, desc, y, mode);
  } else if (ghost_) {
    ghost_->forward(x, desc, y, mode);
  } else {
    bn_->forward(x, desc, y, mode);
  }
}

void BatchNormModule::backward(std::span<const float> x, std::span<const float> dy,
                               std::span<float> dx) {
  if (sync_) {
    sync_->backward(x, dy, dx);
  } else if (renorm_) {
    renorm_->backward(x, dy, dx);
  } else if (ghost_) {
    ghost_->backward(x, dy, dx);
  } else {
    bn_->backward(x, dy, dx);
  }
}

}  // namespace bnorm::nn
