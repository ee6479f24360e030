// One BatchNorm problem for the kernel tests: extents, seeded data and per-channel parameters, and
// every kernel's outputs for it, so that two implementations can be run and compared.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "test_util.hpp"

namespace bnorm::test {

struct KernelCase {
  Extents e;
  uint64_t seed = 1;

  std::string name() const {
    // Appended piece by piece: GCC 12 misreports "literal" + string&& as an overlapping memcpy.
    std::string s = "N";
    s += std::to_string(e.n);
    s += " C";
    s += std::to_string(e.c);
    s += " S";
    s += std::to_string(e.s);
    s += ' ';
    s += to_string(e.layout);
    s += " seed ";
    s += std::to_string(seed);
    return s;
  }
};

// Inputs: x with a per-channel offset and scale (means up to +-5, stds 0.5 to 2.5), so that the
// shift by a pilot value and the per-channel coefficients are exercised; gamma, beta random.
template <typename T>
struct KernelInputs {
  std::vector<T> x, dy;
  std::vector<double> gamma, beta, mean, invstd;

  explicit KernelInputs(const KernelCase& k) {
    const Extents& e = k.e;
    x = random_vector<T>(static_cast<size_t>(e.numel()), k.seed);
    dy = random_vector<T>(x.size(), k.seed + 1);
    const auto offset = random_vector<double>(static_cast<size_t>(e.c), k.seed + 2, 0.0, 2.0);
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t c = 0; c < e.c; ++c)
        for (int64_t s = 0; s < e.s; ++s) {
          T& v = x[static_cast<size_t>(e.offset(n, c, s))];
          v = static_cast<T>(offset[c] + (1.5 + std::tanh(offset[c])) * static_cast<double>(v));
        }
    gamma = random_vector<double>(static_cast<size_t>(e.c), k.seed + 3, 1.0, 0.5);
    beta = random_vector<double>(static_cast<size_t>(e.c), k.seed + 4, 0.0, 0.5);
    mean = random_vector<double>(static_cast<size_t>(e.c), k.seed + 5, 0.0, 2.0);
    invstd = random_vector<double>(static_cast<size_t>(e.c), k.seed + 6, 1.0, 0.2);
    for (double& v : invstd) v = std::abs(v) + 0.1;
  }
};

template <typename T>
struct ForwardTrainOut {
  std::vector<T> y;
  std::vector<Moments> moments;
  std::vector<double> invstd;
};

template <typename T>
ForwardTrainOut<T> run_forward_train(const kernels::KernelSet<T>& k, const KernelCase& kc,
                                     const KernelInputs<T>& in, bool relu) {
  ForwardTrainOut<T> out{std::vector<T>(in.x.size(), static_cast<T>(-7.0)),
                         std::vector<Moments>(static_cast<size_t>(kc.e.c)),
                         std::vector<double>(static_cast<size_t>(kc.e.c), -7.0)};
  k.forward_train(in.x.data(), kc.e, in.gamma.data(), in.beta.data(), 1e-5, relu, out.y.data(),
                  out.moments.data(), out.invstd.data());
  return out;
}

template <typename T>
std::vector<T> run_forward_infer(const kernels::KernelSet<T>& k, const KernelCase& kc,
                                 const KernelInputs<T>& in, bool relu) {
  std::vector<T> y(in.x.size(), static_cast<T>(-7.0));
  k.forward_infer(in.x.data(), kc.e, in.mean.data(), in.invstd.data(), in.gamma.data(),
                  in.beta.data(), relu, y.data());
  return y;
}

template <typename T>
struct BackwardOut {
  std::vector<T> dx;
  std::vector<double> dgamma, dbeta;
};

// Garbage in the outputs proves they are overwritten, not accumulated into.
template <typename T>
BackwardOut<T> run_backward(const kernels::KernelSet<T>& k, const KernelCase& kc,
                            const KernelInputs<T>& in, const std::vector<T>& dy, bool relu,
                            bool through_stats, bool want_dx) {
  const auto c = static_cast<size_t>(kc.e.c);
  BackwardOut<T> out{std::vector<T>(want_dx ? in.x.size() : 0, static_cast<T>(-7.0)),
                     std::vector<double>(c, 9.0), std::vector<double>(c, 9.0)};
  k.backward(in.x.data(), dy.data(), kc.e, in.mean.data(), in.invstd.data(), in.gamma.data(),
             in.beta.data(), relu, through_stats, want_dx ? out.dx.data() : nullptr,
             out.dgamma.data(), out.dbeta.data());
  return out;
}

}  // namespace bnorm::test
