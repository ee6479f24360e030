// E12's measurement: a float64 forward pass of a probe batch through an MLP built by nn::build_mlp
// (BN before the nonlinearity, or none), the per-example Jacobians between consecutive hidden
// layers with the probe's batch statistics held constant, and the spread of their singular values.
// docs/paper.md (E12) defines each quantity.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nn/mlp.hpp"

namespace bnorm::experiments {

// Per hidden layer k, over the probe [P rows]: z = W h + b [P, units]; with BN, the probe's mean
// and s = sqrt(biased variance + eps) of z [units], u = gamma (z - mean) / s + beta; without BN,
// u = z and mean, s are empty. h = phi(u) feeds the next layer.
struct ProbeLayer {
  std::vector<double> z, u;     // [P, units]
  std::vector<double> mean, s;  // [units], BN only
  std::vector<double> gamma;    // [units], BN only
  int64_t units = 0;
};
struct ProbeForward {
  int64_t rows = 0;
  bool bn = false, relu = false;
  std::vector<ProbeLayer> layers;           // hidden layers
  std::vector<std::vector<double>> weight;  // per hidden layer, [units, fan_in], from the Linear
};

// Throws bnorm::Error when probe.size() != count * mlp's input width or count < 2.
ProbeForward probe_forward(nn::Mlp& mlp, std::span<const float> probe, int64_t count);

enum class JacobianKind {
  kNormalized,  // with BN: d xhat_k / d xhat_{k-1}; without BN: d z_k / d z_{k-1}
  kBnInput,     // d z_k / d z_{k-1} in both cases
};
// The full Jacobian [units_k, units_{k-1}] of hidden layer k (>= 1) w.r.t. layer k - 1 at probe row
// `example`, with the batch statistics constant. Throws bnorm::Error on k or example out of range.
std::vector<double> layer_jacobian(const ProbeForward& f, size_t k, int64_t example,
                                   JacobianKind kind);

struct JacobianSpectra {
  double spread = 0;           // std of ln sigma (kNormalized), mean over examples and pairs
  double mean_log_sigma = 0;   // mean of ln sigma (kNormalized), likewise
  double spread_bn_input = 0;  // std of ln sigma (kBnInput); equals spread without BN
  int64_t excluded = 0;        // singular values <= 1e-12 sigma_max, left out (all Jacobians)
  std::vector<double> example_sigma;  // kNormalized, example 0, layers 0-1: sigma, descending
};
// Singular values of each Jacobian restricted to the units of layer k - 1 whose nonlinearity has a
// non-zero slope (ReLU: u > 0; sigmoid: all), i.e. the Jacobian's non-zero singular values.
JacobianSpectra layer_jacobian_spectra(nn::Mlp& mlp, std::span<const float> probe, int64_t count);

}  // namespace bnorm::experiments
