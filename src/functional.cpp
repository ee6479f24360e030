// The stateless BatchNorm API: argument checks, conversion of per-channel arrays to float64, and
// the choice of a kernel implementation from the ordered list of src/kernels by the caller's
// Backend. Everything a user can get wrong is caught here, so kernels can assume valid input. One
// template per operation serves float, double and bfloat16 data (with parameter_t<T> arrays).
#include "bnorm/functional.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "api_checks.hpp"
#include "check.hpp"
#include "functional_internal.hpp"
#include "kernels/kernels.hpp"
#include "optimized_range.hpp"

namespace bnorm {
namespace {

using detail::check;
using detail::check_eps;
using detail::check_optional_size;
using detail::check_size;
using detail::overlap;

// Per-channel arrays in float64 for the kernels, in per-thread buffers reused from call to call:
// a small layer (60 x 100) takes about a microsecond, on the order of a heap allocation.
enum ChannelArray { kGamma, kBeta, kMean, kInvstd, kSumDy, kSumDyXhat, kChannelArrays };

double* channel_array(ChannelArray which, int64_t c) {
  thread_local std::vector<double> arrays[kChannelArrays];
  auto& a = arrays[which];
  if (a.size() < static_cast<size_t>(c)) a.resize(static_cast<size_t>(c));
  return a.data();
}

template <typename T>
const double* to_double(std::span<const T> v, int64_t c, double fill, ChannelArray which) {
  double* out = channel_array(which, c);
  if (v.empty()) {
    std::fill(out, out + c, fill);
  } else {
    std::copy(v.begin(), v.end(), out);
  }
  return out;
}

template <typename T>
void check_no_overlap(std::span<const T> in, std::span<T> out, std::string_view op,
                      std::string_view in_name, std::string_view out_name) {
  check(!overlap(in, out), op, "expected ", out_name, " not to overlap ", in_name,
        ", got overlapping buffers");
}

}  // namespace

// The first implementation of the list that supports e: kAuto takes any, the reference last;
// kOptimized any but the reference; kReference the reference alone (without reading the CPU or
// the environment).
template <typename T>
const kernels::KernelSet<T>& detail::select_kernels(const Extents& e, Backend backend) {
  if (backend == Backend::kReference) return kernels::reference_kernels<T>();
  const auto list = kernels::implementations<T>();  // the reference last
  for (const kernels::KernelSet<T>* k : list) {
    if (backend == Backend::kOptimized && k == &kernels::reference_kernels<T>()) break;
    if (k->supports(e)) return *k;
  }
  throw Error(
      "[batch_norm] expected an optimized kernel for this problem, got none: use "
      "Backend::kAuto or Backend::kReference");
}

template <typename T>
AffineMap inference_affine(std::span<const T> mean, std::span<const T> var,
                           std::span<const T> gamma, std::span<const T> beta, double eps) {
  constexpr std::string_view op = "inference_affine";
  const int64_t c = static_cast<int64_t>(mean.size());
  check(c > 0, op, "expected at least one channel, got an empty mean");
  check_size(var, c, op, "var");
  check_optional_size(gamma, c, op, "gamma");
  check_optional_size(beta, c, op, "beta");
  check_eps<T>(eps, op);
  AffineMap map;
  map.scale.resize(static_cast<size_t>(c));
  map.shift.resize(static_cast<size_t>(c));
  for (size_t i = 0; i < static_cast<size_t>(c); ++i) {
    check(!(var[i] < 0), op, "expected var >= 0, got var[", i, "] = ", var[i]);
    const double g = gamma.empty() ? 1.0 : static_cast<double>(gamma[i]);
    const double b = beta.empty() ? 0.0 : static_cast<double>(beta[i]);
    map.scale[i] = g / std::sqrt(static_cast<double>(var[i]) + eps);
    map.shift[i] = b - map.scale[i] * static_cast<double>(mean[i]);
  }
  return map;
}

namespace {

template <typename T>
void forward_train_checked(std::span<const T> x, const TensorDesc& desc,
                           std::span<const parameter_t<T>> gamma,
                           std::span<const parameter_t<T>> beta, double eps, std::span<T> y,
                           std::span<Moments> batch_moments, Backend backend, Activation activation,
                           std::span<double> save_invstd) {
  constexpr std::string_view op = "batch_norm_forward_train";
  const Extents e = extents_of(desc, op);
  check_size(x, e.numel(), op, "x");
  check_size(y, e.numel(), op, "y");
  detail::forward_train_sized<T>(x, e, gamma, beta, eps, y, batch_moments, backend, activation,
                                 save_invstd);
}

}  // namespace

template <typename T>
void batch_norm_forward_train(std::span<const T> x, const TensorDesc& desc,
                              std::span<const T> gamma, std::span<const T> beta, double eps,
                              std::span<T> y, std::span<Moments> batch_moments, Backend backend,
                              Activation activation, std::span<double> save_invstd) {
  forward_train_checked<T>(x, desc, gamma, beta, eps, y, batch_moments, backend, activation,
                           save_invstd);
}

void batch_norm_forward_train(std::span<const bfloat16> x, const TensorDesc& desc,
                              std::span<const float> gamma, std::span<const float> beta, double eps,
                              std::span<bfloat16> y, std::span<Moments> batch_moments,
                              Backend backend, Activation activation,
                              std::span<double> save_invstd) {
  forward_train_checked<bfloat16>(x, desc, gamma, beta, eps, y, batch_moments, backend, activation,
                                  save_invstd);
}

template <typename T>
void detail::forward_train_sized(std::span<const T> x, const Extents& e,
                                 std::span<const parameter_t<T>> gamma,
                                 std::span<const parameter_t<T>> beta, double eps, std::span<T> y,
                                 std::span<Moments> batch_moments, Backend backend,
                                 Activation activation, std::span<double> save_invstd) {
  constexpr std::string_view op = "batch_norm_forward_train";
  check_no_overlap(x, y, op, "x", "y");
  check_optional_size(gamma, e.c, op, "gamma");
  check_optional_size(beta, e.c, op, "beta");
  check_size(batch_moments, e.c, op, "batch_moments");
  check_optional_size(save_invstd, e.c, op, "save_invstd");
  check_eps<parameter_t<T>>(eps, op);
  check(e.per_channel() > 1, op,
        "expected more than 1 value per channel when training, got N * spatial = ", e.per_channel(),
        " (batch statistics of one value have no variance; use a batch of 2 or "
        "more, or Mode::kInference)");
  const double* g = to_double(gamma, e.c, 1.0, kGamma);
  const double* b = to_double(beta, e.c, 0.0, kBeta);
  double* invstd = save_invstd.empty() ? channel_array(kInvstd, e.c) : save_invstd.data();
  const auto run = [&](const kernels::KernelSet<T>& k) {
    k.forward_train(x.data(), e, g, b, eps, activation == Activation::kRelu, y.data(),
                    batch_moments.data(), invstd);
  };
  const kernels::KernelSet<T>& kernels = detail::select_kernels<T>(e, backend);
  run(kernels);
  if (&kernels != &kernels::reference_kernels<T>() &&
      detail::outside_optimized_range<T>(batch_moments))
    run(kernels::reference_kernels<T>());
}

template <typename T>
void update_running_stats(std::span<const Moments> batch, double factor, std::span<T> running_mean,
                          std::span<T> running_var) {
  constexpr std::string_view op = "update_running_stats";
  const auto c = static_cast<int64_t>(batch.size());
  check(c > 0, op, "expected at least one channel, got empty batch moments");
  check_size(running_mean, c, op, "running_mean");
  check_size(running_var, c, op, "running_var");
  check(factor >= 0.0 && factor <= 1.0, op, "expected 0 <= factor <= 1 (the momentum), got ",
        factor);
  bool same_count = true;
  for (size_t i = 0; i < batch.size(); ++i) {
    check(batch[i].count > 1, op, "expected every batch count > 1 (an unbiased variance), got ",
          batch[i].count, " for channel ", i);
    same_count = same_count && batch[i].count == batch[0].count;
  }
  const auto update = [&](size_t i, double unbiased_count) {
    running_mean[i] = static_cast<T>((1.0 - factor) * static_cast<double>(running_mean[i]) +
                                     factor * batch[i].mean);
    running_var[i] = static_cast<T>((1.0 - factor) * static_cast<double>(running_var[i]) +
                                    factor * (batch[i].m2 / unbiased_count));
  };
  if (same_count) {  // every channel of a training forward: one count, a loop that vectorizes
    const double unbiased_count = static_cast<double>(batch[0].count - 1);
    for (size_t i = 0; i < batch.size(); ++i) update(i, unbiased_count);
  } else {
    for (size_t i = 0; i < batch.size(); ++i) {
      update(i, static_cast<double>(batch[i].count - 1));
    }
  }
}

namespace {

template <typename T>
void forward_infer_checked(std::span<const T> x, const TensorDesc& desc,
                           std::span<const parameter_t<T>> mean,
                           std::span<const parameter_t<T>> var,
                           std::span<const parameter_t<T>> gamma,
                           std::span<const parameter_t<T>> beta, double eps, std::span<T> y,
                           Backend backend, Activation activation) {
  constexpr std::string_view op = "batch_norm_forward_infer";
  const Extents e = extents_of(desc, op);
  check_size(x, e.numel(), op, "x");
  check_size(y, e.numel(), op, "y");
  detail::forward_infer_sized<T>(x, e, mean, var, gamma, beta, eps, y, backend, activation);
}

}  // namespace

template <typename T>
void batch_norm_forward_infer(std::span<const T> x, const TensorDesc& desc, std::span<const T> mean,
                              std::span<const T> var, std::span<const T> gamma,
                              std::span<const T> beta, double eps, std::span<T> y, Backend backend,
                              Activation activation) {
  forward_infer_checked<T>(x, desc, mean, var, gamma, beta, eps, y, backend, activation);
}

void batch_norm_forward_infer(std::span<const bfloat16> x, const TensorDesc& desc,
                              std::span<const float> mean, std::span<const float> var,
                              std::span<const float> gamma, std::span<const float> beta, double eps,
                              std::span<bfloat16> y, Backend backend, Activation activation) {
  forward_infer_checked<bfloat16>(x, desc, mean, var, gamma, beta, eps, y, backend, activation);
}

template <typename T>
void detail::forward_infer_sized(std::span<const T> x, const Extents& e,
                                 std::span<const parameter_t<T>> mean,
                                 std::span<const parameter_t<T>> var,
                                 std::span<const parameter_t<T>> gamma,
                                 std::span<const parameter_t<T>> beta, double eps, std::span<T> y,
                                 Backend backend, Activation activation) {
  constexpr std::string_view op = "batch_norm_forward_infer";
  check(
      x.data() == y.data() || !overlap(x, y), op,
      "expected y to be x itself (in place) or not to overlap it, got partly overlapping buffers");
  check_size(mean, e.c, op, "mean");
  check_size(var, e.c, op, "var");
  check_optional_size(gamma, e.c, op, "gamma");
  check_optional_size(beta, e.c, op, "beta");
  check_eps<parameter_t<T>>(eps, op);
  const double* m = to_double(mean, e.c, 0.0, kMean);
  for (size_t c = 0; c < static_cast<size_t>(e.c); ++c) {
    check(!(var[c] < 0), op, "expected var >= 0, got var[", c, "] = ", var[c]);
  }
  double* invstd = channel_array(kInvstd, e.c);  // a loop of its own, which vectorizes
  for (size_t c = 0; c < static_cast<size_t>(e.c); ++c) {
    invstd[c] = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
  }
  const double* g = to_double(gamma, e.c, 1.0, kGamma);
  const double* b = to_double(beta, e.c, 0.0, kBeta);
  detail::select_kernels<T>(e, backend)
      .forward_infer(x.data(), e, m, invstd, g, b, activation == Activation::kRelu, y.data());
}

template <typename T>
void batch_norm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                         std::span<const double> mean, std::span<const double> invstd,
                         std::span<const T> gamma, StatsGradient stats_gradient, std::span<T> dx,
                         std::span<T> dgamma, std::span<T> dbeta, Backend backend,
                         Activation activation, std::span<const T> beta) {
  detail::backward_checked<T>(x, dy, desc, mean, invstd, gamma, stats_gradient, dx, dgamma, dbeta,
                              backend, activation, beta);
}

void batch_norm_backward(std::span<const bfloat16> x, std::span<const bfloat16> dy,
                         const TensorDesc& desc, std::span<const double> mean,
                         std::span<const double> invstd, std::span<const float> gamma,
                         StatsGradient stats_gradient, std::span<bfloat16> dx,
                         std::span<float> dgamma, std::span<float> dbeta, Backend backend,
                         Activation activation, std::span<const float> beta) {
  detail::backward_checked<bfloat16>(x, dy, desc, mean, invstd, gamma, stats_gradient, dx, dgamma,
                                     dbeta, backend, activation, beta);
}

template <typename T>
void detail::backward_checked(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                              std::span<const double> mean, std::span<const double> invstd,
                              std::span<const parameter_t<T>> gamma, StatsGradient stats_gradient,
                              std::span<T> dx, std::span<parameter_t<T>> dgamma,
                              std::span<parameter_t<T>> dbeta, Backend backend,
                              Activation activation, std::span<const parameter_t<T>> beta) {
  using P = parameter_t<T>;
  constexpr std::string_view op = "batch_norm_backward";
  const Extents e = extents_of(desc, op);
  check_size(x, e.numel(), op, "x");
  check_size(dy, e.numel(), op, "dy");
  check(dx.empty() || static_cast<int64_t>(dx.size()) == e.numel(), op,
        "expected dx to be empty or hold ", e.numel(), " elements, got ", dx.size());
  check_no_overlap(x, dx, op, "x", "dx");
  check(dx.data() == dy.data() || !overlap(dy, dx), op,
        "expected dx to be dy itself (in place) or not to overlap it, got partly overlapping "
        "buffers");
  check_size(mean, e.c, op, "mean");
  check_size(invstd, e.c, op, "invstd");
  check_optional_size(gamma, e.c, op, "gamma");
  check_optional_size(dgamma, e.c, op, "dgamma");
  check_optional_size(dbeta, e.c, op, "dbeta");
  check_optional_size(beta, e.c, op, "beta");
  const double* g = to_double(gamma, e.c, 1.0, kGamma);
  const double* b = to_double(beta, e.c, 0.0, kBeta);
  double* sum_dy_xhat = channel_array(kSumDyXhat, e.c);
  double* sum_dy = channel_array(kSumDy, e.c);
  const kernels::KernelSet<T>& kernels =
      detail::outside_optimized_range<T>(mean.data(), invstd.data(), e.c, e.per_channel())
          ? kernels::reference_kernels<T>()
          : detail::select_kernels<T>(e, backend);
  kernels.backward(x.data(), dy.data(), e, mean.data(), invstd.data(), g, b,
                   activation == Activation::kRelu,
                   stats_gradient == StatsGradient::kThroughBatchStats,
                   dx.empty() ? nullptr : dx.data(), sum_dy_xhat, sum_dy);
  for (size_t c = 0; c < dgamma.size(); ++c) dgamma[c] = static_cast<P>(sum_dy_xhat[c]);
  for (size_t c = 0; c < dbeta.size(); ++c) dbeta[c] = static_cast<P>(sum_dy[c]);
}

template <typename T>
void fold_into_preceding(const AffineMap& bn, std::span<T> weight, std::span<T> bias) {
  constexpr std::string_view op = "fold_into_preceding";
  const size_t c = bn.scale.size();
  check(c > 0 && bn.shift.size() == c, op, "expected scale and shift of equal non-zero size, got ",
        bn.scale.size(), " and ", bn.shift.size());
  check(bias.size() == c, op, "expected bias to hold ", c, " elements (one per channel), got ",
        bias.size());
  check(!weight.empty() && weight.size() % c == 0, op, "expected weight to hold a multiple of ", c,
        " elements (one row per output channel), got ", weight.size());
  const size_t row = weight.size() / c;
  for (size_t i = 0; i < c; ++i) {
    for (size_t k = 0; k < row; ++k) {
      weight[i * row + k] = static_cast<T>(bn.scale[i] * static_cast<double>(weight[i * row + k]));
    }
    bias[i] = static_cast<T>(bn.scale[i] * static_cast<double>(bias[i]) + bn.shift[i]);
  }
}

template <typename T>
const char* selected_kernel_name(const TensorDesc& desc, Backend backend) {
  return detail::select_kernels<T>(extents_of(desc, "selected_kernel_name"), backend).name;
}

#define BNORM_INSTANTIATE(T)                                                                  \
  template AffineMap inference_affine<T>(std::span<const T>, std::span<const T>,              \
                                         std::span<const T>, std::span<const T>, double);     \
  template void batch_norm_forward_train<T>(                                                  \
      std::span<const T>, const TensorDesc&, std::span<const T>, std::span<const T>, double,  \
      std::span<T>, std::span<Moments>, Backend, Activation, std::span<double>);              \
  template void update_running_stats<T>(std::span<const Moments>, double, std::span<T>,       \
                                        std::span<T>);                                        \
  template void batch_norm_forward_infer<T>(                                                  \
      std::span<const T>, const TensorDesc&, std::span<const T>, std::span<const T>,          \
      std::span<const T>, std::span<const T>, double, std::span<T>, Backend, Activation);     \
  template void batch_norm_backward<T>(                                                       \
      std::span<const T>, std::span<const T>, const TensorDesc&, std::span<const double>,     \
      std::span<const double>, std::span<const T>, StatsGradient, std::span<T>, std::span<T>, \
      std::span<T>, Backend, Activation, std::span<const T>);                                 \
  template void fold_into_preceding<T>(const AffineMap&, std::span<T>, std::span<T>);         \
  template const char* selected_kernel_name<T>(const TensorDesc&, Backend);

BNORM_INSTANTIATE(float)
BNORM_INSTANTIATE(double)

// What the BatchNorm module calls, for every element type.
#define BNORM_INSTANTIATE_DETAIL(T)                                                          \
  template const kernels::KernelSet<T>& detail::select_kernels<T>(const Extents&, Backend);  \
  template void detail::forward_train_sized<T>(                                              \
      std::span<const T>, const Extents&, std::span<const parameter_t<T>>,                   \
      std::span<const parameter_t<T>>, double, std::span<T>, std::span<Moments>, Backend,    \
      Activation, std::span<double>);                                                        \
  template void detail::forward_infer_sized<T>(                                              \
      std::span<const T>, const Extents&, std::span<const parameter_t<T>>,                   \
      std::span<const parameter_t<T>>, std::span<const parameter_t<T>>,                      \
      std::span<const parameter_t<T>>, double, std::span<T>, Backend, Activation);           \
  template void detail::backward_checked<T>(                                                 \
      std::span<const T>, std::span<const T>, const TensorDesc&, std::span<const double>,    \
      std::span<const double>, std::span<const parameter_t<T>>, StatsGradient, std::span<T>, \
      std::span<parameter_t<T>>, std::span<parameter_t<T>>, Backend, Activation,             \
      std::span<const parameter_t<T>>);

BNORM_INSTANTIATE_DETAIL(float)
BNORM_INSTANTIATE_DETAIL(double)
BNORM_INSTANTIATE_DETAIL(bfloat16)
template const char* selected_kernel_name<bfloat16>(const TensorDesc&, Backend);

}  // namespace bnorm
