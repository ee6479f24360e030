// E8 (noisy BN, the loss landscape) and E12 (layer Jacobians) on tiny synthetic data: their claim
// rows, CSV columns and plots; the landscape probe leaves the network bit for bit as it found it;
// the Jacobians match central differences of an independent forward map, BN's are invariant to the
// weight scale, and ReLU's keep one singular value per active unit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "band_images.hpp"
#include "bnorm/error.hpp"
#include "experiments/landscape.hpp"
#include "experiments/layer_jacobians.hpp"
#include "experiments/paper_experiments.hpp"
#include "nn/activations.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/linear.hpp"
#include "nn/noisy_scale_shift.hpp"
#include "nn/softmax_cross_entropy.hpp"

namespace bnorm::experiments {
namespace {

data::Dataset bands(int64_t count, uint64_t seed) { return test::band_images(count, seed); }

PaperSettings tiny() { return {.seeds = 1, .steps = 3, .batch = 10, .show_progress = false}; }

std::string header_of(const ExperimentResult& r) { return r.csv.substr(0, r.csv.find('\n')); }
long lines_of(const ExperimentResult& r) { return std::count(r.csv.begin(), r.csv.end(), '\n'); }

class WhyDrivers : public ::testing::Test {
 protected:
  data::Dataset train_ = bands(60, 1), test_ = bands(30, 2);
};

TEST_F(WhyDrivers, E8ProducesBothClaimsAndARowPerEvaluation) {
  const ExperimentResult r = run_paper_experiment("E8", tiny(), train_, test_);
  ASSERT_EQ(r.claims.size(), 2u);
  EXPECT_EQ(r.claims[0].id, "E8-noisy");
  EXPECT_EQ(r.claims[1].id, "E8-smooth");
  EXPECT_EQ(header_of(r), "model,seed,step,test_acc,loss,grad_norm,loss_range,grad_change");
  EXPECT_EQ(lines_of(r), 1 + 3 * 4);  // 3 models x evaluations at steps 0, 1, 2, 3
  EXPECT_NE(r.csv.find("\nnoisy_bn,1,3,"), std::string::npos) << r.csv;
  EXPECT_EQ(r.plots.size(), 3u);
  EXPECT_NE(r.claims[1].measured.find("ratio"), std::string::npos);
}

// A training set of 4 images keeps the probe (and the 100 x 100 SVDs) small.
TEST_F(WhyDrivers, E12ProducesAClaimPerNonlinearityWithFiniteSpreads) {
  const data::Dataset small = bands(4, 1);
  PaperSettings s = tiny();
  s.batch = 2;
  s.jobs = 2;
  const ExperimentResult r = run_paper_experiment("e12", s, small, test_);
  ASSERT_EQ(r.claims.size(), 2u);
  EXPECT_EQ(r.claims[0].id, "E12-sigmoid");
  EXPECT_EQ(r.claims[1].id, "E12-relu");
  EXPECT_EQ(header_of(r),
            "activation,model,seed,step,test_acc,spread,mean_log_sigma,spread_bn_input,excluded");
  EXPECT_EQ(lines_of(r), 1 + 4 * 2);  // 4 models x measurements at steps 0 and 3
  EXPECT_EQ(r.plots.size(), 4u);
  EXPECT_EQ(r.claims[0].measured.find("nan"), std::string::npos) << r.claims[0].measured;
  EXPECT_NE(r.claims[1].measured.find("step 3: BN "), std::string::npos) << r.claims[1].measured;
  // The same numbers with the four trainings run one at a time.
  s.jobs = 1;
  EXPECT_EQ(run_paper_experiment("E12", s, small, test_).csv, r.csv);
}

// A BN + noise network: after the probe its parameters, gradients, running statistics, counters
// and noise draws are unchanged bit for bit, and probing twice gives the same numbers (the noise
// is held). The loss range equals the spread of losses recomputed by hand at the step sizes.
TEST_F(WhyDrivers, LandscapeProbeRestoresTheNetworkAndMatchesAHandComputation) {
  nn::Sequential net(784);
  auto& linear = net.emplace<nn::Linear>(
      nn::LinearOptions{.in_features = 784, .out_features = 12, .bias = false});
  for (size_t i = 0; i < linear.weight().size(); ++i)
    linear.weight()[i] = 0.01f * static_cast<float>(i % 7) - 0.03f;
  net.emplace<nn::BatchNormLayer>(BatchNormOptions{.num_features = 12});
  auto& noise = net.emplace<nn::NoisyScaleShift>(nn::NoisyScaleShiftOptions{.features = 12}, 4);
  net.emplace<nn::Sigmoid>();
  net.emplace<nn::Linear>(nn::LinearOptions{.in_features = 12, .out_features = 10});
  const std::span<const float> x(train_.images.data(), 10 * 784);
  const std::span<const int32_t> y(train_.labels.data(), 10);
  net.forward(x, 10, nn::Phase::kTrain);  // a first draw and running-statistics update

  auto snapshot = [&] {
    std::vector<float> all;
    for (const nn::Parameter& p : net.parameters()) {
      all.insert(all.end(), p.value.begin(), p.value.end());
      all.insert(all.end(), p.grad.begin(), p.grad.end());
    }
    for (const nn::Buffer& b : net.buffers()) all.insert(all.end(), b.value.begin(), b.value.end());
    for (const nn::Counter& c : net.counters()) all.push_back(static_cast<float>(c.get()));
    all.insert(all.end(), noise.scale().begin(), noise.scale().end());
    return all;
  };
  const std::vector<float> before = snapshot();
  const std::vector<double> etas = {0.1, 0.4};
  const LandscapePoint a = measure_along_gradient(net, x, y, etas);
  EXPECT_EQ(snapshot(), before);
  EXPECT_FALSE(noise.held());
  const LandscapePoint b = measure_along_gradient(net, x, y, etas);
  EXPECT_EQ(a.loss_range, b.loss_range);
  EXPECT_EQ(a.grad_change, b.grad_change);
  EXPECT_GT(a.grad_change, 0.0);

  // By hand: the gradient, then the loss at theta - eta g for each eta.
  noise.set_held(true);
  auto loss_at = [&](double eta, const std::vector<double>& g) {
    std::vector<nn::Parameter> ps = net.parameters();
    std::vector<std::vector<float>> saved;
    size_t at = 0;
    for (nn::Parameter& p : ps) {
      saved.emplace_back(p.value.begin(), p.value.end());
      for (float& v : p.value) v = static_cast<float>(v - eta * g[at++]);
    }
    nn::SoftmaxCrossEntropy ce;
    const double l = ce.forward(net.forward(x, 10, nn::Phase::kTrain), y);
    for (size_t i = 0; i < ps.size(); ++i)
      std::copy(saved[i].begin(), saved[i].end(), ps[i].value.begin());
    return l;
  };
  net.zero_grad();
  nn::SoftmaxCrossEntropy ce;
  ce.forward(net.forward(x, 10, nn::Phase::kTrain), y);
  nn::Tensor d;
  d.resize(10, 10);
  ce.backward(d);
  net.backward(d);
  std::vector<double> g;
  for (const nn::Parameter& p : net.parameters()) g.insert(g.end(), p.grad.begin(), p.grad.end());
  EXPECT_NEAR(a.loss_range, std::abs(loss_at(0.1, g) - loss_at(0.4, g)), 1e-6);
  EXPECT_THROW(measure_along_gradient(net, x, y, {}), Error);
}

// An independent float64 map from layer k-1's position to layer k's, for central differences:
// with BN xhat_{k-1} -> u = gamma xhat + beta -> h -> z = W h -> (z - mean_k) / s_k; without BN
// z_{k-1} -> h -> z = W h + b.
std::vector<double> map_forward(const ProbeForward& f, nn::Mlp& mlp, size_t k,
                                const std::vector<double>& pos) {
  const ProbeLayer& prev = f.layers[k - 1];
  const ProbeLayer& cur = f.layers[k];
  nn::BatchNormLayer* bn_prev =
      f.bn ? &dynamic_cast<nn::BatchNormLayer&>(mlp.net().layer(mlp.pre_activation_index(k - 1)))
           : nullptr;
  auto& linear = dynamic_cast<nn::Linear&>(mlp.net().layer(mlp.linear_index(k)));
  std::vector<double> h(pos.size());
  for (size_t j = 0; j < pos.size(); ++j) {
    const double u = f.bn ? prev.gamma[j] * pos[j] + bn_prev->module().beta()[j] : pos[j];
    h[j] = f.relu ? std::max(u, 0.0) : 1.0 / (1.0 + std::exp(-u));
  }
  std::vector<double> out(static_cast<size_t>(cur.units));
  for (int64_t i = 0; i < cur.units; ++i) {
    double z = linear.bias().empty() ? 0.0 : linear.bias()[static_cast<size_t>(i)];
    for (size_t j = 0; j < h.size(); ++j)
      z += linear.weight()[static_cast<size_t>(i) * h.size() + j] * h[j];
    out[static_cast<size_t>(i)] =
        f.bn ? (z - cur.mean[static_cast<size_t>(i)]) / cur.s[static_cast<size_t>(i)] : z;
  }
  return out;
}

TEST_F(WhyDrivers, LayerJacobiansMatchCentralDifferences) {
  for (const bool bn : {false, true}) {
    nn::Mlp mlp = nn::build_mlp({784, 9, 8, 7, 10}, nn::Nonlinearity::kSigmoid,
                                bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone, 3,
                                {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1});
    if (bn) {  // gamma away from 1, so a missing gamma factor shows
      auto& b = dynamic_cast<nn::BatchNormLayer&>(mlp.net().layer(mlp.pre_activation_index(0)));
      for (size_t j = 0; j < b.module().gamma().size(); ++j)
        b.module().gamma()[j] = 0.5f + 0.2f * static_cast<float>(j);
    }
    const ProbeForward f =
        probe_forward(mlp, std::span<const float>(train_.images.data(), 20 * 784), 20);
    const size_t k = 1;
    const int64_t e = 3, rows = f.layers[k].units, cols = f.layers[k - 1].units;
    const std::vector<double> jac = layer_jacobian(f, k, e, JacobianKind::kNormalized);
    // The position of example e at layer k - 1: xhat with BN, z without.
    std::vector<double> pos(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j) {
      const ProbeLayer& p = f.layers[k - 1];
      const double z = p.z[static_cast<size_t>(e * cols + j)];
      pos[static_cast<size_t>(j)] =
          bn ? (z - p.mean[static_cast<size_t>(j)]) / p.s[static_cast<size_t>(j)] : z;
    }
    // The map reproduces the forward pass at layer k.
    const std::vector<double> at = map_forward(f, mlp, k, pos);
    for (int64_t i = 0; i < rows; ++i) {
      const double z = f.layers[k].z[static_cast<size_t>(e * rows + i)];
      const double want = bn ? (z - f.layers[k].mean[static_cast<size_t>(i)]) /
                                   f.layers[k].s[static_cast<size_t>(i)]
                             : z;
      EXPECT_NEAR(at[static_cast<size_t>(i)], want, 1e-9) << "bn " << bn << " unit " << i;
    }
    for (int64_t j = 0; j < cols; ++j) {
      std::vector<double> plus = pos, minus = pos;
      plus[static_cast<size_t>(j)] += 1e-6;
      minus[static_cast<size_t>(j)] -= 1e-6;
      const std::vector<double> fp = map_forward(f, mlp, k, plus),
                                fm = map_forward(f, mlp, k, minus);
      for (int64_t i = 0; i < rows; ++i) {
        const double numeric = (fp[static_cast<size_t>(i)] - fm[static_cast<size_t>(i)]) / 2e-6;
        EXPECT_NEAR(jac[static_cast<size_t>(i * cols + j)], numeric,
                    1e-7 + 1e-6 * std::abs(numeric))
            << "bn " << bn << " at (" << i << ", " << j << ")";
      }
    }
  }
}

// The probe's BN values equal the engine's BN output in the training phase on the same batch.
TEST_F(WhyDrivers, ProbeForwardMatchesTheEngine) {
  nn::Mlp mlp = nn::build_mlp({784, 9, 8, 10}, nn::Nonlinearity::kReLU, nn::BnPlacement::kBefore, 5,
                              {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1});
  const std::span<const float> x(train_.images.data(), 20 * 784);
  const ProbeForward f = probe_forward(mlp, x, 20);
  mlp.net().forward(x, 20, nn::Phase::kTrain);
  for (size_t k = 0; k < 2; ++k) {
    const nn::Tensor& u = mlp.pre_activation(k);
    for (int64_t i = 0; i < u.numel(); ++i)
      EXPECT_NEAR(f.layers[k].u[static_cast<size_t>(i)], u[i], 1e-4)
          << "layer " << k << " at " << i;
  }
}

// Scaling a BN layer's incoming weights by 10 leaves the normalized Jacobians unchanged (the
// paper's scale invariance); without BN it changes them. ReLU: one singular value per active unit.
TEST_F(WhyDrivers, BnJacobianSpreadIsScaleInvariantAndReluKeepsActiveUnits) {
  const std::span<const float> x(train_.images.data(), 30 * 784);
  for (const bool bn : {true, false}) {
    nn::Mlp mlp = nn::build_mlp({784, 20, 20, 20, 10}, nn::Nonlinearity::kSigmoid,
                                bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone, 7,
                                {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1});
    const JacobianSpectra before = layer_jacobian_spectra(mlp, x, 30);
    auto& w = dynamic_cast<nn::Linear&>(mlp.net().layer(mlp.linear_index(1)));
    for (float& v : w.weight()) v *= 10.0f;
    const JacobianSpectra after = layer_jacobian_spectra(mlp, x, 30);
    EXPECT_GT(before.spread, 0.0);
    if (bn) {
      EXPECT_NEAR(after.spread, before.spread, 1e-4 * before.spread);
      EXPECT_NEAR(after.mean_log_sigma, before.mean_log_sigma, 1e-4);
    } else {
      EXPECT_GT(std::abs(after.spread - before.spread), 0.05 * before.spread);
    }
  }
  nn::Mlp relu =
      nn::build_mlp({784, 20, 20, 20, 10}, nn::Nonlinearity::kReLU, nn::BnPlacement::kNone, 7,
                    {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1});
  const ProbeForward f = probe_forward(relu, x, 30);
  size_t active = 0;
  for (int64_t j = 0; j < 20; ++j) active += f.layers[0].u[static_cast<size_t>(j)] > 0;
  const JacobianSpectra spectra = layer_jacobian_spectra(relu, x, 30);
  EXPECT_EQ(spectra.example_sigma.size(), active);
  EXPECT_LT(active, 20u);
  EXPECT_THROW(probe_forward(relu, x, 29), Error);
  EXPECT_THROW(layer_jacobian(f, 0, 0, JacobianKind::kNormalized), Error);
}

}  // namespace
}  // namespace bnorm::experiments
