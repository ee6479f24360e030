// Mergeable moments (count, mean, M2).
#include "bnorm/moments.hpp"

#include <limits>

#include "check.hpp"

namespace bnorm {

// Chan, Golub & LeVeque: with delta = mean_b - mean_a and n = n_a + n_b,
//   mean = mean_a + delta * n_b / n,   M2 = M2_a + M2_b + delta^2 * n_a * n_b / n.
Moments merge(const Moments& a, const Moments& b) {
  detail::check(a.count >= 0 && b.count >= 0, "merge", "expected counts >= 0, got ", a.count,
                " and ", b.count);
  detail::check(a.count <= std::numeric_limits<int64_t>::max() - b.count, "merge",
                "expected a total count that fits in int64, got ", a.count, " + ", b.count);
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  const double na = static_cast<double>(a.count);
  const double nb = static_cast<double>(b.count);
  const double n = na + nb;
  const double delta = b.mean - a.mean;
  return {a.count + b.count, a.mean + delta * (nb / n),
          a.m2 + b.m2 + delta * delta * (na * nb / n)};
}

Moments moments_of(std::span<const double> values) {
  Moments m;
  m.count = static_cast<int64_t>(values.size());
  if (m.count == 0) return m;
  double sum = 0.0;
  for (double v : values) sum += v;
  m.mean = sum / static_cast<double>(m.count);
  for (double v : values) m.m2 += (v - m.mean) * (v - m.mean);
  return m;
}

}  // namespace bnorm
