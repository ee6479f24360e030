// The probe forward pass, layer Jacobians and their singular-value spread (layer_jacobians.hpp).
#include "experiments/layer_jacobians.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "experiments/jacobi_svd.hpp"
#include "experiments/paper_settings.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/linear.hpp"

namespace bnorm::experiments {
namespace {

double slope(double u, bool relu) {
  if (relu) return u > 0 ? 1.0 : 0.0;
  const double y = 1.0 / (1.0 + std::exp(-u));
  return y * (1.0 - y);
}

double activation(double u, bool relu) {
  return relu ? std::max(u, 0.0) : 1.0 / (1.0 + std::exp(-u));
}

// Mean and standard deviation (population) of ln sigma over the values above 1e-12 of the
// largest; counts the others into `excluded`.
void log_moments(const std::vector<double>& sigma, double& mean, double& sd, int64_t& excluded) {
  const double cut = sigma.empty() ? 0.0 : 1e-12 * sigma.front();
  std::vector<double> logs;
  for (double v : sigma) {
    if (v > cut) {
      logs.push_back(std::log(v));
    } else {
      ++excluded;
    }
  }
  if (logs.empty()) {
    mean = sd = NAN;
    return;
  }
  mean = 0;
  for (double l : logs) mean += l / static_cast<double>(logs.size());
  double var = 0;
  for (double l : logs) var += (l - mean) * (l - mean) / static_cast<double>(logs.size());
  sd = std::sqrt(var);
}

}  // namespace

ProbeForward probe_forward(nn::Mlp& mlp, std::span<const float> probe, int64_t count) {
  nn::Sequential& net = mlp.net();
  const int64_t in = net.in_features();
  require(count >= 2 && probe.size() == static_cast<size_t>(count * in), "E12",
          "expected a probe of at least 2 rows of " + std::to_string(in) + " values, got " +
              std::to_string(probe.size()) + " values for " + std::to_string(count) + " rows");
  ProbeForward f{.rows = count,
                 .bn = mlp.options().bn == nn::BnPlacement::kBefore,
                 .relu = mlp.options().activation == nn::Nonlinearity::kReLU};
  require(mlp.options().bn != nn::BnPlacement::kAfter, "E12",
          "expected BN before the nonlinearity or none, got BN after it");
  std::vector<double> h(probe.begin(), probe.end());  // [P, fan_in]
  int64_t fan_in = in;
  for (size_t k = 0; k < mlp.hidden_layers(); ++k) {
    auto& linear = dynamic_cast<nn::Linear&>(net.layer(mlp.linear_index(k)));
    const int64_t units = linear.options().out_features;
    const std::span<const float> w = linear.weight(), b = linear.bias();
    ProbeLayer layer{.units = units};
    layer.z.assign(static_cast<size_t>(count * units), 0.0);
    for (int64_t e = 0; e < count; ++e)
      for (int64_t i = 0; i < units; ++i) {
        double sum = b.empty() ? 0.0 : b[static_cast<size_t>(i)];
        for (int64_t j = 0; j < fan_in; ++j)
          sum += static_cast<double>(w[static_cast<size_t>(i * fan_in + j)]) *
                 h[static_cast<size_t>(e * fan_in + j)];
        layer.z[static_cast<size_t>(e * units + i)] = sum;
      }
    layer.u = layer.z;
    if (f.bn) {
      auto& bn = dynamic_cast<nn::BatchNormLayer&>(net.layer(mlp.pre_activation_index(k)));
      const double eps = bn.module().options().eps;
      layer.mean.assign(static_cast<size_t>(units), 0.0);
      layer.s.assign(static_cast<size_t>(units), 0.0);
      layer.gamma.assign(bn.module().gamma().begin(), bn.module().gamma().end());
      for (int64_t i = 0; i < units; ++i) {
        double mean = 0, var = 0;
        for (int64_t e = 0; e < count; ++e) mean += layer.z[static_cast<size_t>(e * units + i)];
        mean /= static_cast<double>(count);
        for (int64_t e = 0; e < count; ++e) {
          const double d = layer.z[static_cast<size_t>(e * units + i)] - mean;
          var += d * d;
        }
        const double s = std::sqrt(var / static_cast<double>(count) + eps);
        layer.mean[static_cast<size_t>(i)] = mean;
        layer.s[static_cast<size_t>(i)] = s;
        const double beta = bn.module().beta()[static_cast<size_t>(i)];
        for (int64_t e = 0; e < count; ++e) {
          double& u = layer.u[static_cast<size_t>(e * units + i)];
          u = layer.gamma[static_cast<size_t>(i)] * (u - mean) / s + beta;
        }
      }
    }
    h.resize(layer.u.size());
    for (size_t i = 0; i < h.size(); ++i) h[i] = activation(layer.u[i], f.relu);
    f.weight.emplace_back(w.begin(), w.end());
    f.layers.push_back(std::move(layer));
    fan_in = units;
  }
  return f;
}

std::vector<double> layer_jacobian(const ProbeForward& f, size_t k, int64_t example,
                                   JacobianKind kind) {
  require(k >= 1 && k < f.layers.size() && example >= 0 && example < f.rows, "E12",
          "expected a layer in [1, " + std::to_string(f.layers.size()) +
              ") and an example in [0, " + std::to_string(f.rows) + "), got " + std::to_string(k) +
              " and " + std::to_string(example));
  const ProbeLayer& prev = f.layers[k - 1];
  const ProbeLayer& cur = f.layers[k];
  const int64_t rows = cur.units, cols = prev.units;
  // Column factor: d h_{k-1} / d (the k-1 position), per unit; row factor: d (the k position) /
  // dz_k.
  std::vector<double> col(static_cast<size_t>(cols)), row(static_cast<size_t>(rows), 1.0);
  for (int64_t j = 0; j < cols; ++j) {
    const auto J = static_cast<size_t>(j);
    double c = slope(prev.u[static_cast<size_t>(example * cols + j)], f.relu);
    if (f.bn) c *= kind == JacobianKind::kNormalized ? prev.gamma[J] : prev.gamma[J] / prev.s[J];
    col[J] = c;
  }
  if (f.bn && kind == JacobianKind::kNormalized)
    for (int64_t i = 0; i < rows; ++i)
      row[static_cast<size_t>(i)] = 1.0 / cur.s[static_cast<size_t>(i)];
  std::vector<double> jac(static_cast<size_t>(rows * cols));
  const std::vector<double>& w = f.weight[k];
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      jac[static_cast<size_t>(i * cols + j)] = row[static_cast<size_t>(i)] *
                                               w[static_cast<size_t>(i * cols + j)] *
                                               col[static_cast<size_t>(j)];
  return jac;
}

JacobianSpectra layer_jacobian_spectra(nn::Mlp& mlp, std::span<const float> probe, int64_t count) {
  const ProbeForward f = probe_forward(mlp, probe, count);
  require(f.layers.size() >= 2, "E12",
          "expected at least 2 hidden layers, got " + std::to_string(f.layers.size()));
  JacobianSpectra out;
  double n = 0;
  for (size_t k = 1; k < f.layers.size(); ++k) {
    const int64_t rows = f.layers[k].units, cols = f.layers[k - 1].units;
    for (int64_t e = 0; e < f.rows; ++e) {
      // The units of layer k - 1 with a non-zero slope: the columns that can carry a signal.
      std::vector<int64_t> active;
      for (int64_t j = 0; j < cols; ++j)
        if (slope(f.layers[k - 1].u[static_cast<size_t>(e * cols + j)], f.relu) > 0)
          active.push_back(j);
      for (JacobianKind kind : {JacobianKind::kNormalized, JacobianKind::kBnInput}) {
        if (kind == JacobianKind::kBnInput && !f.bn) continue;
        double mean = NAN, sd = NAN;
        if (!active.empty()) {
          const std::vector<double> jac = layer_jacobian(f, k, e, kind);
          std::vector<double> restricted(static_cast<size_t>(rows) * active.size());
          for (int64_t i = 0; i < rows; ++i)
            for (size_t c = 0; c < active.size(); ++c)
              restricted[static_cast<size_t>(i) * active.size() + c] =
                  jac[static_cast<size_t>(i * cols + active[c])];
          const std::vector<double> sigma =
              singular_values(restricted, rows, static_cast<int64_t>(active.size()));
          log_moments(sigma, mean, sd, out.excluded);
          if (kind == JacobianKind::kNormalized && k == 1 && e == 0) out.example_sigma = sigma;
        }
        if (kind == JacobianKind::kNormalized) {
          out.spread += sd;
          out.mean_log_sigma += mean;
        } else {
          out.spread_bn_input += sd;
        }
      }
      n += 1;
    }
  }
  out.spread /= n;
  out.mean_log_sigma /= n;
  out.spread_bn_input = f.bn ? out.spread_bn_input / n : out.spread;
  return out;
}

}  // namespace bnorm::experiments
