// Checks a contender's outputs against the reference before it is timed: a contender that
// computes something else is reported as wrong, not timed silently.
#pragma once

#include <span>
#include <string>

#include "problem.hpp"

namespace bnorm::bench {

// Empty when every output matches: |a - r| <= tol * (1 + |r|) for y and dx (values of order 1),
// and |a - r| <= tol * (1 + max |r|) for dgamma and dbeta (sums over M values, whose float32
// rounding grows with the sum). Otherwise names the output, index and both values.
std::string compare_outputs(const Outputs& got, const Outputs& want, double tol = 2e-3);

// The same check on one array; `name` appears in the message.
std::string compare_array(std::string_view name, std::span<const float> got,
                          std::span<const float> want, double tol, bool scale_by_max);

}  // namespace bnorm::bench
