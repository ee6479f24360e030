// compare_outputs: element-wise tolerance check with a message naming the first bad element.
#include "verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bnorm::bench {

std::string compare_array(std::string_view name, std::span<const float> got,
                          std::span<const float> want, double tol, bool scale_by_max) {
  if (got.size() != want.size()) {
    return fmt::format("{}: expected {} elements, got {}", name, want.size(), got.size());
  }
  double max_abs = 0.0;
  for (float r : want) max_abs = std::max(max_abs, std::abs(static_cast<double>(r)));
  for (size_t i = 0; i < want.size(); ++i) {
    const double a = got[i], r = want[i];
    const double bound = tol * (1.0 + (scale_by_max ? max_abs : std::abs(r)));
    if (!(std::abs(a - r) <= bound)) {  // NaN fails too
      return fmt::format("{}[{}]: expected {:.6g}, got {:.6g} (tolerance {:.2g})", name, i, r, a,
                         bound);
    }
  }
  return {};
}

std::string compare_outputs(const Outputs& got, const Outputs& want, double tol) {
  std::string bad = compare_array("y", got.y, want.y, tol, false);
  if (bad.empty()) bad = compare_array("dx", got.dx, want.dx, tol, false);
  if (bad.empty()) bad = compare_array("dgamma", got.dgamma, want.dgamma, tol, true);
  if (bad.empty()) bad = compare_array("dbeta", got.dbeta, want.dbeta, tol, true);
  return bad;
}

}  // namespace bnorm::bench
