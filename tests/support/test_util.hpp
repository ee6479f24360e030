// Helpers shared by the tests: seeded random tensors, layout conversion, and tolerance checks that
// print the index, both values and the seed.
#pragma once

#include <gtest/gtest.h>

#include <bnorm/error.hpp>
#include <bnorm/layout.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace bnorm::test {

template <typename T>
std::vector<T> random_vector(size_t size, uint64_t seed, double mean = 0.0, double stddev = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(mean, stddev);
  std::vector<T> v(size);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

inline size_t numel(const TensorDesc& d) {
  size_t n = 1;
  for (int64_t x : d.dims) n *= static_cast<size_t>(x);
  return n;
}

inline std::string describe(const TensorDesc& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.dims.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(d.dims[i]);  // appended apart: GCC 12 warns on "x" + string&& (-Wrestrict)
  }
  return s + "] " + std::string(to_string(d.layout));
}

// Offset of logical element (n, c, s) in a tensor of extents e, as a vector index.
inline size_t offset(const Extents& e, int64_t n, int64_t c, int64_t s) {
  return static_cast<size_t>(e.offset(n, c, s));
}

// Re-lays out src (extents from) into the layout of `to` (same N, C, S).
template <typename T>
std::vector<T> relayout(std::span<const T> src, const Extents& from, const Extents& to) {
  std::vector<T> dst(src.size());
  for (int64_t n = 0; n < from.n; ++n)
    for (int64_t c = 0; c < from.c; ++c)
      for (int64_t s = 0; s < from.s; ++s) dst[offset(to, n, c, s)] = src[offset(from, n, c, s)];
  return dst;
}

// EXPECTs |a - r| <= atol + rtol * |r| elementwise; reports the first few failures.
template <typename A, typename R>
void expect_close(std::span<const A> actual, std::span<const R> ref, double atol, double rtol,
                  const std::string& what) {
  ASSERT_EQ(actual.size(), ref.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double a = static_cast<double>(actual[i]), r = static_cast<double>(ref[i]);
    const bool ok = std::abs(a - r) <= atol + rtol * std::abs(r);
    if (!ok && reported++ < 5) {
      ADD_FAILURE() << what << ": index " << i << " got " << a << ", expected " << r << " (|diff| "
                    << std::abs(a - r) << " > " << atol + rtol * std::abs(r) << ")";
    }
  }
}

// What f throws as a bnorm::Error, or "(no error)" when it returns: for tests that look into the
// message.
inline std::string error_message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace bnorm::test
