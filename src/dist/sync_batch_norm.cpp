// SyncBatchNorm: a BatchNorm whose batch modes use the global batch's statistics. Parameters and
// running statistics live in a plain BatchNorm (local_); the synchronized path goes through the
// functional calls of sync_batch_norm_functional.cpp.
#include "bnorm/sync_batch_norm.hpp"

#include <cstddef>

#include "bnorm/error.hpp"
#include "sync_detail.hpp"

namespace bnorm {

template <typename T>
SyncBatchNorm<T>::SyncBatchNorm(const BatchNormOptions& options, Communicator& comm)
    : local_(options), comm_(&comm) {}

template <typename T>
void SyncBatchNorm<T>::forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y,
                               Mode mode) {
  if (mode == Mode::kInference || mode == Mode::kFrozen) {
    local_.forward(x, desc, y, mode);  // running statistics: identical on every rank already
    last_ = Last::kLocal;
    return;
  }
  const BatchNormOptions& o = local_.options();
  const auto c = static_cast<size_t>(o.num_features);
  global_moments_.resize(c);
  saved_mean_.resize(c);
  saved_invstd_.resize(c);
  last_ = Last::kNone;  // until this call succeeds
  const dist::ModuleCall call{&o, mode, &agreed_};
  dist::forward_train<T>(x, desc, local_.gamma(), local_.beta(), o.eps, y, *comm_, global_moments_,
                         saved_mean_, saved_invstd_, o.backend, o.activation, &call);
  if (mode == Mode::kTrain) {
    // PyTorch's update with the global moments (unbiased global variance), as BatchNorm does.
    const int64_t tracked = local_.num_batches_tracked() + 1;
    local_.set_num_batches_tracked(tracked);
    const double f = o.momentum ? *o.momentum : 1.0 / static_cast<double>(tracked);
    update_running_stats<T>(global_moments_, f, local_.running_mean(), local_.running_var());
  }
  last_ = Last::kSynced;
  last_mode_ = mode;
  last_desc_ = desc;
}

template <typename T>
void SyncBatchNorm<T>::backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx) {
  if (last_ == Last::kNone) {
    throw Error(
        "[SyncBatchNorm::backward] expected a successful forward() before backward(), "
        "got none");
  }
  if (last_ == Last::kLocal) {  // inference modes: nothing to exchange
    local_.backward(x, dy, dx);
    return;
  }
  const BatchNormOptions& o = local_.options();
  const size_t c = o.affine ? static_cast<size_t>(o.num_features) : 0;
  scratch_dgamma_.resize(c);
  scratch_dbeta_.resize(c);
  const dist::ModuleCall call{&o, last_mode_, &agreed_};
  dist::backward<T>(x, dy, last_desc_, saved_mean_, saved_invstd_, global_moments_[0].count,
                    local_.gamma(), *comm_, dx, scratch_dgamma_, scratch_dbeta_, o.backend,
                    o.activation, local_.beta(), &call);
  for (size_t i = 0; i < c; ++i) {  // accumulate, like BatchNorm::backward and PyTorch's .grad
    local_.grad_gamma()[i] += scratch_dgamma_[i];
    local_.grad_beta()[i] += scratch_dbeta_[i];
  }
}

template class SyncBatchNorm<float>;
template class SyncBatchNorm<double>;

}  // namespace bnorm
