// Argument checks shared by the functional calls (BatchNorm, Batch Renorm, Ghost BatchNorm): sizes
// of tensors and per-channel arrays, eps, and overlapping buffers.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "bnorm/batch_norm.hpp"
#include "check.hpp"

namespace bnorm::detail {

// x must be the tensor the module's last forward() was given (ForwardInput).
template <typename T>
void check_forward_input(const ForwardInput<T>& last, std::span<const T> x, std::string_view op) {
  check(last.is(x), op, "expected x to be the last forward()'s input (the same buffer of ",
        last.size, " elements), got another buffer or size; call forward() on this x first");
}

template <typename T>
void check_size(std::span<T> s, int64_t expected, std::string_view op, std::string_view name) {
  check(static_cast<int64_t>(s.size()) == expected, op, "expected ", name, " to hold ", expected,
        " elements, got ", s.size());
}

template <typename T>
void check_optional_size(std::span<T> s, int64_t expected, std::string_view op,
                         std::string_view name) {
  check(s.empty() || static_cast<int64_t>(s.size()) == expected, op, "expected ", name,
        " to be empty or hold ", expected, " elements (one per channel), got ", s.size());
}

// eps below T's smallest normal underflows in T, and 1/sqrt(eps) of a constant channel overflows.
template <typename T>
void check_eps(double eps, std::string_view op) {
  check(std::isfinite(eps) && eps >= std::numeric_limits<T>::min() &&
            eps <= std::numeric_limits<T>::max(),
        op, "expected eps > 0 and at least ", std::numeric_limits<T>::min(),
        " (the smallest normal number of the data type; below it 1/sqrt(var + eps) overflows on a "
        "constant channel), got ",
        eps);
}

// Whether two buffers share any byte (std::less: a total order even across allocations).
template <typename A, typename B>
bool overlap(std::span<A> a, std::span<B> b) {
  if (a.empty() || b.empty()) return false;
  const auto* a0 = reinterpret_cast<const char*>(a.data());
  const auto* b0 = reinterpret_cast<const char*>(b.data());
  const auto less = std::less<const char*>();
  return less(a0, b0 + b.size_bytes()) && less(b0, a0 + a.size_bytes());
}

// A per-channel array in float64: v, or `fill` everywhere when v is empty (no affine).
template <typename T>
std::vector<double> channel_values(std::span<const T> v, int64_t c, double fill) {
  if (v.empty()) return std::vector<double>(static_cast<size_t>(c), fill);
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace bnorm::detail
