// Helpers for the engine's tests: random float tensors, finite differences of a float network, and
// a tiny synthetic classification problem.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

#include "nn/tensor.hpp"

namespace bnorm::nn::test {

inline Tensor random_tensor(int64_t rows, int64_t cols, uint64_t seed, double stddev = 1.0,
                            double mean = 0.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(mean, stddev);
  Tensor t;
  t.resize(rows, cols);
  for (float& v : t.span()) v = static_cast<float>(dist(rng));
  return t;
}

// d loss / d v[i] for every i by central differences with step h, loss evaluated in double.
inline std::vector<double> numeric_grad(std::span<float> v, const std::function<double()>& loss,
                                        float h) {
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float saved = v[i];
    v[i] = saved + h;
    const double plus = loss();
    v[i] = saved - h;
    const double minus = loss();
    v[i] = saved;
    // The perturbation actually applied, after float rounding of saved +- h.
    const double step = static_cast<double>(saved + h) - static_cast<double>(saved - h);
    g[i] = (plus - minus) / step;
  }
  return g;
}

// Gaussian blobs: `classes` centers in `features` dimensions, `count` samples (labels cycle).
struct Blobs {
  int64_t count = 0, features = 0;
  std::vector<float> x;    // [count, features]
  std::vector<int32_t> y;  // [count]
};

inline Blobs make_blobs(int64_t count, int64_t features, int32_t classes, uint64_t seed,
                        double spread = 0.6) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> unit(0.0, 1.0);
  std::vector<double> centers(static_cast<size_t>(classes * features));
  for (double& c : centers) c = 1.5 * unit(rng);
  Blobs b{.count = count, .features = features};
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int32_t>(i % classes);
    b.y.push_back(label);
    for (int64_t f = 0; f < features; ++f) {
      b.x.push_back(static_cast<float>(centers[static_cast<size_t>(label * features + f)] +
                                       spread * unit(rng)));
    }
  }
  return b;
}

}  // namespace bnorm::nn::test
