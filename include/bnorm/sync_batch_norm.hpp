// Synchronized BatchNorm: data-parallel ranks each hold a shard of the global batch and normalize
// with the statistics of the whole batch, merged exactly from every rank's (count, mean, M2).
// Results equal one BatchNorm over the concatenated batch (up to rounding); see
// docs/distributed.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bnorm/batch_norm.hpp"
#include "bnorm/communicator.hpp"
#include "bnorm/functional.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm {

// Contract shared by every call here:
//  - Every rank of comm calls the same function with the same C, spatial dims, layout, dtype,
//    eps, affine-ness and activation; only N (dims[0]) may differ, and may be 0 (the rank still
//    takes part in the collectives). Before its first collective each functional call (and a
//    module's first forward) all-gathers a small signature of its problem; when ranks disagree, or
//    any rank's input is invalid, every rank throws bnorm::Error instead of hanging
//    ("[sync_batch_norm_*] expected ..., got rank r: ...", the same text on every rank; a rank
//    whose own input was invalid throws its own message).
//  - Inputs follow functional.hpp: x, y, dy, dx hold desc's elements in desc.layout order; gamma
//    and beta are [C] or empty (no affine); outputs are overwritten.

// Training forward. Merges every rank's per-channel moments in rank order (Chan et al.), so every
// rank gets bit-identical global_moments [C]; then y = gamma * (x - mean) / sqrt(var + eps) + beta
// with the global mean and biased variance. save_mean, save_invstd: [C] or empty, overwritten with
// what y was normalized with (what sync_batch_norm_backward takes). The global batch must hold
// more than one value per channel. Collectives: one all-gather of the signature, one all-gather of
// the signature and 3 * C doubles.
template <typename T>
void sync_batch_norm_forward_train(
    std::span<const T> x, const TensorDesc& desc, std::span<const T> gamma, std::span<const T> beta,
    double eps, std::span<T> y, Communicator& comm, std::span<Moments> global_moments,
    std::span<double> save_mean = {}, std::span<double> save_invstd = {},
    Backend backend = Backend::kAuto, Activation activation = Activation::kNone);

// Training backward through the global batch statistics. mean, invstd: [C] from the forward;
// global_count: values per channel in the whole global batch (global_moments[c].count). With
// xhat = (x - mean) * invstd and M = global_count, the only data exchanged is
//   sum_dy = all-reduce(sum dy), sum_dy_xhat = all-reduce(sum dy * xhat)      (2 * C doubles)
//   dx = gamma * invstd * (dy - sum_dy / M - xhat * sum_dy_xhat / M)
// dgamma, dbeta ([C] or empty) get THIS rank's contribution sum dy * xhat and sum dy over its own
// shard; summing them over ranks gives the global gradients (the data-parallel gradient
// all-reduce does that, as with torch.nn.SyncBatchNorm under DDP). Activation::kRelu as in
// batch_norm_backward (beta: the forward's, [C] or empty). Collectives: one all-gather of the
// signature, one all-reduce of 2 * C + 2 doubles (the sums and whether every rank's input was
// valid).
template <typename T>
void sync_batch_norm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                              std::span<const double> mean, std::span<const double> invstd,
                              int64_t global_count, std::span<const T> gamma, Communicator& comm,
                              std::span<T> dx, std::span<T> dgamma, std::span<T> dbeta,
                              Backend backend = Backend::kAuto,
                              Activation activation = Activation::kNone,
                              std::span<const T> beta = {});

// BatchNorm whose batch modes (Mode::kTrain, Mode::kBatchStats) normalize with the statistics of
// the global batch over comm; running statistics are updated from the global moments with the
// global unbiased variance (PyTorch conventions, momentum or cumulative), so they stay identical
// on every rank. Mode::kInference and kFrozen use the running statistics and communicate nothing.
// Parameters, running statistics and options live in local(), a plain BatchNorm (for saving,
// loading and inference). Every rank must build its module with the same options and make the same
// sequence of forward/backward calls, as data-parallel copies of one network do. The first
// batch-mode forward checks in a collective of its own that the ranks agree (options, C, shapes);
// after that each forward makes one all-gather of its signature and moments, each backward one
// all-reduce of its sums and a validity flag, and a disagreement or a rank's bad input still
// makes every rank throw. check_finite and the Algorithm 2 population estimate are not
// synchronized: use local() for them.
template <typename T>  // float or double
class SyncBatchNorm {
 public:
  // comm must outlive the module. Throws bnorm::Error on invalid options (as BatchNorm).
  SyncBatchNorm(const BatchNormOptions& options, Communicator& comm);

  const BatchNormOptions& options() const { return local_.options(); }
  Communicator& communicator() { return *comm_; }

  // As BatchNorm::forward; desc.dims[0] (this rank's N) may be 0 in batch modes.
  void forward(std::span<const T> x, const TensorDesc& desc, std::span<T> y, Mode mode);
  // As BatchNorm::backward: dx overwritten (empty: skipped, the sums are still exchanged);
  // grad_gamma/grad_beta accumulate this rank's contribution (see sync_batch_norm_backward).
  void backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx);

  BatchNorm<T>& local() { return local_; }
  const BatchNorm<T>& local() const { return local_; }
  std::span<T> gamma() { return local_.gamma(); }
  std::span<T> beta() { return local_.beta(); }
  std::span<T> grad_gamma() { return local_.grad_gamma(); }
  std::span<T> grad_beta() { return local_.grad_beta(); }
  void zero_grad() { local_.zero_grad(); }
  std::span<T> running_mean() { return local_.running_mean(); }
  std::span<T> running_var() { return local_.running_var(); }
  int64_t num_batches_tracked() const { return local_.num_batches_tracked(); }

  // Global moments [C] of the last forward in a batch mode.
  std::span<const Moments> global_moments() const { return global_moments_; }

 private:
  enum class Last { kNone, kLocal, kSynced };  // what the last forward() was

  BatchNorm<T> local_;
  Communicator* comm_;
  Last last_ = Last::kNone;
  bool agreed_ = false;  // every rank's module checked to have the same options and C
  Mode last_mode_ = Mode::kTrain;
  TensorDesc last_desc_;
  std::vector<Moments> global_moments_;
  std::vector<double> saved_mean_, saved_invstd_;
  std::vector<T> scratch_dgamma_, scratch_dbeta_;
};

extern template class SyncBatchNorm<float>;
extern template class SyncBatchNorm<double>;

}  // namespace bnorm
