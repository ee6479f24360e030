// The stateless Ghost BatchNorm calls: the batch cut along N into ghost batches (contiguous in
// every layout, since N is the outermost dim), each one BatchNorm's training forward or backward.
#include "bnorm/ghost_batch_norm.hpp"

#include <algorithm>

#include "api_checks.hpp"
#include "functional_internal.hpp"

namespace bnorm {
namespace {

using detail::check;
using detail::check_optional_size;
using detail::check_size;

// Checks the ghost batch size against e and returns the number of ghost batches.
int64_t checked_ghost_batches(const Extents& e, int64_t ghost_batch_size, std::string_view op) {
  check(ghost_batch_size > 0, op, "expected ghost_batch_size > 0, got ", ghost_batch_size);
  const int64_t k = ghost_batch_count(e.n, ghost_batch_size);
  const int64_t last = e.n - (k - 1) * ghost_batch_size;
  check(last * e.s > 1, op,
        "expected every ghost batch to hold more than 1 value per channel, got a last ghost batch "
        "of ",
        last, " sample(s) x spatial ", e.s, " (N = ", e.n,
        ", ghost_batch_size = ", ghost_batch_size,
        "); choose a ghost batch size that leaves a remainder of 0 or >= 2");
  return k;
}

}  // namespace

int64_t ghost_batch_count(int64_t n, int64_t ghost_batch_size) {
  check(n >= 0 && ghost_batch_size > 0, "ghost_batch_count",
        "expected n >= 0 and ghost_batch_size > 0, got n = ", n,
        ", ghost_batch_size = ", ghost_batch_size);
  return (n + ghost_batch_size - 1) / ghost_batch_size;
}

template <typename T>
void ghost_batch_norm_forward_train(std::span<const T> x, const TensorDesc& desc,
                                    int64_t ghost_batch_size, std::span<const T> gamma,
                                    std::span<const T> beta, double eps, std::span<T> y,
                                    std::span<Moments> ghost_moments, std::span<double> save_invstd,
                                    Backend backend, Activation activation) {
  constexpr std::string_view op = "ghost_batch_norm_forward_train";
  const Extents e = extents_of(desc, op);
  check_size(x, e.numel(), op, "x");
  check_size(y, e.numel(), op, "y");
  const int64_t k = checked_ghost_batches(e, ghost_batch_size, op);
  check_size(ghost_moments, k * e.c, op, "ghost_moments (ghost batches x C)");
  check_optional_size(save_invstd, k * e.c, op, "save_invstd (ghost batches x C)");
  check(!detail::overlap(x, y), op, "expected y not to overlap x, got overlapping buffers");
  const auto c = static_cast<size_t>(e.c);
  for (int64_t g = 0; g < k; ++g) {
    const int64_t n0 = g * ghost_batch_size;
    const Extents eg{
        .n = std::min(ghost_batch_size, e.n - n0), .c = e.c, .s = e.s, .layout = e.layout};
    const auto begin = static_cast<size_t>(n0 * e.c * e.s);
    const auto size = static_cast<size_t>(eg.numel());
    detail::forward_train_sized<T>(
        x.subspan(begin, size), eg, gamma, beta, eps, y.subspan(begin, size),
        ghost_moments.subspan(static_cast<size_t>(g) * c, c), backend, activation,
        save_invstd.empty() ? save_invstd : save_invstd.subspan(static_cast<size_t>(g) * c, c));
  }
}

template <typename T>
void ghost_batch_norm_backward(std::span<const T> x, std::span<const T> dy, const TensorDesc& desc,
                               int64_t ghost_batch_size, std::span<const double> mean,
                               std::span<const double> invstd, std::span<const T> gamma,
                               StatsGradient stats_gradient, std::span<T> dx, std::span<T> dgamma,
                               std::span<T> dbeta, Backend backend, Activation activation,
                               std::span<const T> beta) {
  constexpr std::string_view op = "ghost_batch_norm_backward";
  const Extents e = extents_of(desc, op);
  check_size(x, e.numel(), op, "x");
  check_size(dy, e.numel(), op, "dy");
  check_optional_size(dx, e.numel(), op, "dx");
  const int64_t k = checked_ghost_batches(e, ghost_batch_size, op);
  check_size(mean, k * e.c, op, "mean (ghost batches x C)");
  check_size(invstd, k * e.c, op, "invstd (ghost batches x C)");
  check_optional_size(dgamma, e.c, op, "dgamma");
  check_optional_size(dbeta, e.c, op, "dbeta");
  const auto c = static_cast<size_t>(e.c);
  std::vector<T> part_dgamma(dgamma.empty() ? 0 : c), part_dbeta(dbeta.empty() ? 0 : c);
  std::vector<double> sum_dgamma(c, 0.0), sum_dbeta(c, 0.0);
  TensorDesc dg = desc;
  for (int64_t g = 0; g < k; ++g) {
    const int64_t n0 = g * ghost_batch_size;
    dg.dims[0] = std::min(ghost_batch_size, e.n - n0);
    const auto begin = static_cast<size_t>(n0 * e.c * e.s);
    const auto size = static_cast<size_t>(dg.dims[0] * e.c * e.s);
    const auto channels = static_cast<size_t>(g) * c;
    batch_norm_backward<T>(x.subspan(begin, size), dy.subspan(begin, size), dg,
                           mean.subspan(channels, c), invstd.subspan(channels, c), gamma,
                           stats_gradient, dx.empty() ? dx : dx.subspan(begin, size), part_dgamma,
                           part_dbeta, backend, activation, beta);
    for (size_t i = 0; i < part_dgamma.size(); ++i) sum_dgamma[i] += part_dgamma[i];
    for (size_t i = 0; i < part_dbeta.size(); ++i) sum_dbeta[i] += part_dbeta[i];
  }
  for (size_t i = 0; i < dgamma.size(); ++i) dgamma[i] = static_cast<T>(sum_dgamma[i]);
  for (size_t i = 0; i < dbeta.size(); ++i) dbeta[i] = static_cast<T>(sum_dbeta[i]);
}

#define BNORM_INSTANTIATE(T)                                                                       \
  template void ghost_batch_norm_forward_train<T>(                                                 \
      std::span<const T>, const TensorDesc&, int64_t, std::span<const T>, std::span<const T>,      \
      double, std::span<T>, std::span<Moments>, std::span<double>, Backend, Activation);           \
  template void ghost_batch_norm_backward<T>(                                                      \
      std::span<const T>, std::span<const T>, const TensorDesc&, int64_t, std::span<const double>, \
      std::span<const double>, std::span<const T>, StatsGradient, std::span<T>, std::span<T>,      \
      std::span<T>, Backend, Activation, std::span<const T>);

BNORM_INSTANTIATE(float)
BNORM_INSTANTIATE(double)

}  // namespace bnorm
