// Synchronized BatchNorm as stateless calls: local work through the public functional API, the
// exchange through a Communicator, and the one loop the functional API has no call for (dx from
// the global sums).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "bnorm/error.hpp"
#include "bnorm/sync_batch_norm.hpp"
#include "check.hpp"
#include "signature.hpp"
#include "sync_detail.hpp"

namespace bnorm::dist {
namespace {

using bnorm::detail::check;

constexpr int kForwardOp = 1;
constexpr int kBackwardOp = 2;

// This rank's moments [C]. The kernels need two values per channel, and compute y (scratch here,
// overwritten with the global normalization afterwards): a moments-only kernel would save a pass.
template <typename T>
std::vector<Moments> local_moments(std::span<const T> x, const TensorDesc& desc, const Extents& e,
                                   std::span<T> y_scratch, Backend backend) {
  std::vector<Moments> m(static_cast<size_t>(e.c));
  if (e.per_channel() > 1) {
    batch_norm_forward_train<T>(x, desc, {}, {}, 1.0, y_scratch, m, backend);
  } else if (e.per_channel() == 1) {  // one value: mean = x, M2 = 0
    for (int64_t c = 0; c < e.c; ++c) m[static_cast<size_t>(c)] = {1, static_cast<double>(x[c]), 0};
  }
  return m;
}

// All-gathers [signature | (count, mean, M2) per channel] from every rank, checks the signatures
// agree (the same error on every rank otherwise) and merges ranks in order 0..K-1, so every rank
// holds the same bits. local: this rank's moments, zeros when local_error is set.
std::vector<Moments> merge_over_ranks(Communicator& comm, std::string_view op, Signature sig,
                                      const std::vector<Moments>& local,
                                      const std::string& local_error) {
  const size_t c = local.size();
  sig[kLocalOk] = local_error.empty() ? 1.0 : 0.0;
  const size_t stride = kFieldCount + 3 * c;
  std::vector<double> mine(stride);  // [signature][C][count, mean, M2]
  std::copy(sig.begin(), sig.end(), mine.begin());
  for (size_t i = 0; i < c; ++i) {
    mine[kFieldCount + 3 * i] = static_cast<double>(local[i].count);
    mine[kFieldCount + 3 * i + 1] = local[i].mean;
    mine[kFieldCount + 3 * i + 2] = local[i].m2;
  }
  std::vector<double> all(stride * static_cast<size_t>(comm.size()));  // [K][stride]
  comm.all_gather(mine, all);
  check_gathered(op, all, stride, comm.size(), local_error);
  std::vector<Moments> global(c);
  for (int r = 0; r < comm.size(); ++r) {
    const double* p = all.data() + static_cast<size_t>(r) * stride + kFieldCount;
    for (size_t i = 0; i < c; ++i) {
      const Moments m{static_cast<int64_t>(p[3 * i]), p[3 * i + 1], p[3 * i + 2]};
      global[i] = merge(global[i], m);
    }
  }
  return global;
}

// The per-rank checks shared by forward and backward (module options included).
template <typename T>
Extents check_local(std::string_view op, const TensorDesc& desc, std::span<const T> x,
                    std::span<const T> gamma, std::span<const T> beta, double eps,
                    const ModuleCall* module) {
  const Extents e = shard_extents(desc, op);
  const auto c = static_cast<size_t>(e.c);
  check(static_cast<int64_t>(x.size()) == e.numel(), op, "expected x to hold ", e.numel(),
        " elements, got ", x.size());
  check(gamma.empty() || gamma.size() == c, op, "expected gamma to be empty or hold ", c,
        " values, got ", gamma.size());
  check(beta.empty() || beta.size() == c, op, "expected beta to be empty or hold ", c,
        " values, got ", beta.size());
  check(eps > 0.0, op, "expected eps > 0, got ", eps);
  if (module != nullptr) {
    const BatchNormOptions& o = *module->options;
    check(desc.layout == o.layout, op, "expected input in the module's layout ",
          to_string(o.layout), ", got ", to_string(desc.layout));
    check(e.c == o.num_features, op, "expected ", o.num_features,
          " channels (num_features) in dims[1], got ", e.c);
    check(o.track_running_stats || module->mode != Mode::kTrain, op,
          "expected Mode::kTrain to have running statistics, got a module built with "
          "track_running_stats = false; use Mode::kBatchStats");
  }
  return e;
}

}  // namespace

template <typename T>
void forward_train(std::span<const T> x, const TensorDesc& desc, std::span<const T> gamma,
                   std::span<const T> beta, double eps, std::span<T> y, Communicator& comm,
                   std::span<Moments> global_moments, std::span<double> save_mean,
                   std::span<double> save_invstd, Backend backend, Activation activation,
                   const ModuleCall* module) {
  constexpr std::string_view op = "sync_batch_norm_forward_train";
  Signature sig = make_signature(kForwardOp, sizeof(T), desc, eps, !gamma.empty(), activation);
  if (module != nullptr) set_module_fields(sig, *module->options, module->mode);
  std::string local_error;
  Extents e;
  try {
    e = check_local<T>(op, desc, x, gamma, beta, eps, module);
    const auto c = static_cast<size_t>(e.c);
    check(static_cast<int64_t>(y.size()) == e.numel(), op, "expected y to hold ", e.numel(),
          " elements, got ", y.size());
    check(global_moments.size() == c, op, "expected global_moments to hold ", c, " values, got ",
          global_moments.size());
    check(save_mean.empty() || save_mean.size() == c, op, "expected save_mean empty or [", c,
          "], got ", save_mean.size(), " values");
    check(save_invstd.empty() || save_invstd.size() == c, op, "expected save_invstd empty or [", c,
          "], got ", save_invstd.size(), " values");
  } catch (const Error& err) {
    local_error = err.what();
  }
  // A module checks its signature in a collective of its own only until the ranks agreed on its
  // options and C; from then on every rank's moments exchange has the same size, and the
  // signature travels with the moments (one collective per forward instead of two).
  if (module == nullptr || !*module->agreed) {
    agree_or_throw(comm, op, sig, local_error);
    if (module != nullptr) *module->agreed = true;
  }
  const std::vector<Moments> global = merge_over_ranks(
      comm, op, sig,
      local_error.empty()
          ? local_moments(x, desc, e, y, backend)
          : std::vector<Moments>(static_cast<size_t>(module->options->num_features)),
      local_error);
  // Every rank has the same global count, so every rank throws here or none does.
  check(global[0].count > 1, op, "expected more than one value per channel in the global batch, ",
        "got ", global[0].count);
  const auto c = static_cast<size_t>(e.c);
  std::vector<T> mean(c), var(c);
  for (size_t i = 0; i < c; ++i) {
    global_moments[i] = global[i];
    mean[i] = static_cast<T>(global[i].mean);
    var[i] = static_cast<T>(global[i].variance());
    if (!save_mean.empty()) save_mean[i] = global[i].mean;
    if (!save_invstd.empty()) save_invstd[i] = 1.0 / std::sqrt(global[i].variance() + eps);
  }
  if (e.n > 0) {
    batch_norm_forward_infer<T>(x, desc, mean, var, gamma, beta, eps, y, backend, activation);
  }
}

namespace {

// dx = gamma * invstd * (dy' - sum_dy / M - xhat * sum_dy_xhat / M), dy' = dy masked where a fused
// ReLU's recomputed output was not > 0. sums: [2][C] global (sum dy, sum dy * xhat). A plain
// loop: no functional call takes global sums (a dx-from-sums kernel would vectorize it).
template <typename T>
void dx_from_global_sums(std::span<const T> x, std::span<const T> dy, const Extents& e,
                         std::span<const double> mean, std::span<const double> invstd,
                         std::span<const T> gamma, std::span<const T> beta,
                         std::span<const double> sums, double count, bool through_stats,
                         Activation activation, std::span<T> dx) {
  const auto c = static_cast<size_t>(e.c);
  std::vector<double> scale(c), mean_dy(c), mean_dy_xhat(c);
  for (size_t i = 0; i < c; ++i) {
    scale[i] = (gamma.empty() ? 1.0 : static_cast<double>(gamma[i])) * invstd[i];
    mean_dy[i] = through_stats ? sums[i] / count : 0.0;
    mean_dy_xhat[i] = through_stats ? sums[c + i] / count : 0.0;
  }
  const auto one = [&](int64_t n, int64_t ch, int64_t s) {
    const auto at = static_cast<size_t>(e.offset(n, ch, s));
    const auto k = static_cast<size_t>(ch);
    const double xhat = (static_cast<double>(x[at]) - mean[k]) * invstd[k];
    double g = static_cast<double>(dy[at]);
    if (activation == Activation::kRelu) {
      const double yv = (gamma.empty() ? 1.0 : static_cast<double>(gamma[k])) * xhat +
                        (beta.empty() ? 0.0 : static_cast<double>(beta[k]));
      if (!(yv > 0.0)) g = 0.0;
    }
    dx[at] = static_cast<T>(scale[k] * (g - mean_dy[k] - xhat * mean_dy_xhat[k]));
  };
  for (int64_t n = 0; n < e.n; ++n) {
    if (e.layout == Layout::kChannelsLast) {
      for (int64_t s = 0; s < e.s; ++s)
        for (int64_t ch = 0; ch < e.c; ++ch) one(n, ch, s);
    } else {
      for (int64_t ch = 0; ch < e.c; ++ch)
        for (int64_t s = 0; s < e.s; ++s) one(n, ch, s);
    }
  }
}

}  // namespace

template <typename T>
void backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
              std::span<const double> mean, std::span<const double> invstd, int64_t global_count,
              std::span<const T> gamma, Communicator& comm, std::span<T> dx, std::span<T> dgamma,
              std::span<T> dbeta, Backend backend, Activation activation, std::span<const T> beta,
              const ModuleCall* module) {
  constexpr std::string_view op = "sync_batch_norm_backward";
  const double eps_unused = 1.0;  // backward takes invstd, not eps
  Signature sig =
      make_signature(kBackwardOp, sizeof(T), desc, eps_unused, !gamma.empty(), activation);
  if (module != nullptr) set_module_fields(sig, *module->options, module->mode);
  sig[kGlobalCount] = static_cast<double>(global_count);
  std::string local_error;
  Extents e;
  try {
    e = check_local<T>(op, desc, x, gamma, beta, eps_unused, module);
    const auto c = static_cast<size_t>(e.c);
    check(dy.size() == x.size(), op, "expected dy to hold ", x.size(), " elements, got ",
          dy.size());
    check(dx.empty() || dx.size() == x.size(), op, "expected dx empty or of ", x.size(),
          " elements, got ", dx.size());
    check(mean.size() == c && invstd.size() == c, op, "expected mean and invstd of ", c,
          " values, got ", mean.size(), " and ", invstd.size());
    check(dgamma.empty() || dgamma.size() == c, op, "expected dgamma empty or [", c, "], got ",
          dgamma.size(), " values");
    check(dbeta.empty() || dbeta.size() == c, op, "expected dbeta empty or [", c, "], got ",
          dbeta.size(), " values");
    check(global_count > 1 && global_count >= e.per_channel(), op,
          "expected the global count per channel (> 1, >= this rank's ", e.per_channel(), "), got ",
          global_count);
  } catch (const Error& err) {
    local_error = err.what();
  }
  // A module's forward already made the ranks agree on options and C (and the global count comes
  // from the merged moments): its backward only checks, inside the all-reduce, that every rank's
  // input was valid. The functional call checks its whole signature first.
  if (module == nullptr) agree_or_throw(comm, op, sig, local_error);
  const auto c = static_cast<size_t>(module != nullptr ? module->options->num_features : e.c);
  const bool valid = local_error.empty();
  std::vector<T> local_dgamma(c, T(0)), local_dbeta(c, T(0));  // this rank's sum dy*xhat, sum dy
  if (valid && e.n > 0) {
    batch_norm_backward<T>(x, dy, desc, mean, invstd, gamma, StatsGradient::kThroughBatchStats, {},
                           local_dgamma, local_dbeta, backend, activation, beta);
  }
  std::vector<double> sums(2 * c + 2);  // [2][C] sum dy, sum dy * xhat; then validity_of
  for (size_t i = 0; i < c; ++i) {
    sums[i] = static_cast<double>(local_dbeta[i]);
    sums[c + i] = static_cast<double>(local_dgamma[i]);
  }
  const std::array<double, 2> validity = validity_of(comm, local_error);
  std::copy(validity.begin(), validity.end(), sums.begin() + static_cast<std::ptrdiff_t>(2 * c));
  const bool through_stats = module == nullptr || module->options->gradient_through_stats;
  // Without gradient through the statistics only the validity needs exchanging.
  comm.all_reduce_sum(through_stats ? std::span<double>(sums)
                                    : std::span<double>(sums).subspan(2 * c));
  check_all_valid(op, std::span<const double>(sums).subspan(2 * c), local_error);
  for (size_t i = 0; i < c; ++i) {
    if (!dgamma.empty()) dgamma[i] = local_dgamma[i];
    if (!dbeta.empty()) dbeta[i] = local_dbeta[i];
  }
  if (e.n > 0 && !dx.empty()) {
    dx_from_global_sums<T>(x, dy, e, mean, invstd, gamma, beta, sums,
                           static_cast<double>(global_count), through_stats, activation, dx);
  }
}

#define BNORM_INSTANTIATE(T)                                                                \
  template void forward_train<T>(std::span<const T>, const TensorDesc&, std::span<const T>, \
                                 std::span<const T>, double, std::span<T>, Communicator&,   \
                                 std::span<Moments>, std::span<double>, std::span<double>,  \
                                 Backend, Activation, const ModuleCall*);                   \
  template void backward<T>(                                                                \
      std::span<const T>, std::span<const T>, const TensorDesc&, std::span<const double>,   \
      std::span<const double>, int64_t, std::span<const T>, Communicator&, std::span<T>,    \
      std::span<T>, std::span<T>, Backend, Activation, std::span<const T>, const ModuleCall*);
BNORM_INSTANTIATE(float)
BNORM_INSTANTIATE(double)
#undef BNORM_INSTANTIATE

}  // namespace bnorm::dist

namespace bnorm {

template <typename T>
void sync_batch_norm_forward_train(std::span<const T> x, const TensorDesc& desc,
                                   std::span<const T> gamma, std::span<const T> beta, double eps,
                                   std::span<T> y, Communicator& comm,
                                   std::span<Moments> global_moments, std::span<double> save_mean,
                                   std::span<double> save_invstd, Backend backend,
                                   Activation activation) {
  dist::forward_train<T>(x, desc, gamma, beta, eps, y, comm, global_moments, save_mean, save_invstd,
                         backend, activation, nullptr);
}

template <typename T>
void sync_batch_norm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                              std::span<const double> mean, std::span<const double> invstd,
                              int64_t global_count, std::span<const T> gamma, Communicator& comm,
                              std::span<T> dx, std::span<T> dgamma, std::span<T> dbeta,
                              Backend backend, Activation activation, std::span<const T> beta) {
  dist::backward<T>(x, dy, desc, mean, invstd, global_count, gamma, comm, dx, dgamma, dbeta,
                    backend, activation, beta, nullptr);
}

template void sync_batch_norm_forward_train<float>(std::span<const float>, const TensorDesc&,
                                                   std::span<const float>, std::span<const float>,
                                                   double, std::span<float>, Communicator&,
                                                   std::span<Moments>, std::span<double>,
                                                   std::span<double>, Backend, Activation);
template void sync_batch_norm_forward_train<double>(std::span<const double>, const TensorDesc&,
                                                    std::span<const double>,
                                                    std::span<const double>, double,
                                                    std::span<double>, Communicator&,
                                                    std::span<Moments>, std::span<double>,
                                                    std::span<double>, Backend, Activation);
template void sync_batch_norm_backward<float>(std::span<const float>, std::span<const float>,
                                              const TensorDesc&, std::span<const double>,
                                              std::span<const double>, int64_t,
                                              std::span<const float>, Communicator&,
                                              std::span<float>, std::span<float>, std::span<float>,
                                              Backend, Activation, std::span<const float>);
template void sync_batch_norm_backward<double>(
    std::span<const double>, std::span<const double>, const TensorDesc&, std::span<const double>,
    std::span<const double>, int64_t, std::span<const double>, Communicator&, std::span<double>,
    std::span<double>, std::span<double>, Backend, Activation, std::span<const double>);

}  // namespace bnorm
