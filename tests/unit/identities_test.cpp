// The paper's identities (Section 3.3), the equivalence of memory layouts, and numerical stability
// where the textbook variance formula breaks down.
#include <gtest/gtest.h>

#include <bnorm/batch_norm.hpp>
#include <cmath>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

// z [N, C] = u [N, in] W^T, W [C, in].
std::vector<double> linear(const std::vector<double>& u, const std::vector<double>& w, int64_t n,
                           int64_t in, int64_t c) {
  std::vector<double> z(static_cast<size_t>(n * c));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < c; ++o)
      for (int64_t k = 0; k < in; ++k) z[i * c + o] += u[i * in + k] * w[o * in + k];
  return z;
}

// Scale invariance: BN(a W u) = BN(W u), and dL/d(aW) = (1/a) dL/dW. Exact for eps -> 0, so the
// test uses eps = 1e-12 (with the default 1e-5 the identity holds to within eps / var).
TEST(PaperIdentities, ScaleInvarianceOfOutputAndGradient) {
  const int64_t n = 32, in = 10, c = 6;
  const auto u = random_vector<double>(n * in, 11);
  const auto w = random_vector<double>(c * in, 12);
  const auto r = random_vector<double>(n * c, 13);  // loss = sum(y * r)
  const TensorDesc desc{{n, c}, Layout::kNC};
  auto run = [&](double a, std::vector<double>* y, std::vector<double>* dw) {
    std::vector<double> aw(w);
    for (double& v : aw) v *= a;
    const auto z = linear(u, aw, n, in, c);
    BatchNorm<double> bn({.num_features = c, .eps = 1e-12, .layout = Layout::kNC});
    for (int64_t i = 0; i < c; ++i) bn.gamma()[i] = 0.5 + 0.1 * static_cast<double>(i);
    y->resize(z.size());
    bn.forward(z, desc, *y, Mode::kTrain);
    std::vector<double> dz(z.size());
    bn.backward(z, r, dz);
    dw->assign(w.size(), 0.0);  // dW [C, in] = dz^T u
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < c; ++o)
        for (int64_t k = 0; k < in; ++k) (*dw)[o * in + k] += dz[i * c + o] * u[i * in + k];
  };
  std::vector<double> y1, dw1;
  run(1.0, &y1, &dw1);
  for (double a : {0.1, 10.0}) {
    SCOPED_TRACE("a = " + std::to_string(a));
    std::vector<double> ya, dwa;
    run(a, &ya, &dwa);
    expect_close<double, double>(ya, y1, 1e-9, 1e-9, "BN(aWu) vs BN(Wu)");
    std::vector<double> scaled(dwa);
    for (double& v : scaled) v *= a;  // a * dL/d(aW) must equal dL/dW
    expect_close<double, double>(scaled, dw1, 1e-9, 1e-9, "a * dL/d(aW) vs dL/dW");
  }
}

template <typename T>
void expect_layouts_agree(const std::vector<int64_t>& dims, double tol) {
  TensorDesc first{dims, Layout::kChannelsFirst}, last{dims, Layout::kChannelsLast};
  SCOPED_TRACE(describe(first));
  const Extents ef = extents_of(first, "test"), el = extents_of(last, "test");
  const int64_t c = dims[1];
  const auto x = random_vector<T>(numel(first), 21, 10.0, 2.0);
  const auto dy = random_vector<T>(x.size(), 22);
  const auto xl = relayout<T>(x, ef, el);
  const auto dyl = relayout<T>(dy, ef, el);
  BatchNorm<T> bf({.num_features = c, .layout = Layout::kChannelsFirst});
  BatchNorm<T> bl({.num_features = c, .layout = Layout::kChannelsLast});
  for (int64_t i = 0; i < c; ++i) {
    bf.gamma()[i] = bl.gamma()[i] = static_cast<T>(1.0 + 0.25 * static_cast<double>(i));
    bf.beta()[i] = bl.beta()[i] = static_cast<T>(-0.5 * static_cast<double>(i));
  }
  for (Mode mode : {Mode::kTrain, Mode::kInference}) {
    std::vector<T> yf(x.size()), yl(x.size()), dxf(x.size()), dxl(x.size());
    bf.forward(x, first, yf, mode);
    bl.forward(xl, last, yl, mode);
    bf.backward(x, dy, dxf);
    bl.backward(xl, dyl, dxl);
    expect_close<T, T>(relayout<T>(yl, el, ef), yf, tol, tol, "y");
    expect_close<T, T>(relayout<T>(dxl, el, ef), dxf, tol, tol, "dx");
  }
  expect_close<T, T>(bl.grad_gamma(), bf.grad_gamma(), tol, tol, "dgamma");
  expect_close<T, T>(bl.grad_beta(), bf.grad_beta(), tol, tol, "dbeta");
  expect_close<T, T>(bl.running_mean(), bf.running_mean(), tol, tol, "running_mean");
  expect_close<T, T>(bl.running_var(), bf.running_var(), tol, tol, "running_var");
}

TEST(Layouts, ChannelsFirstAndChannelsLastGiveTheSameNumbers) {
  for (const auto& dims : std::vector<std::vector<int64_t>>{
           {3, 4, 17}, {2, 5, 6, 7}, {2, 3, 2, 3, 4}, {7, 16, 1, 1}}) {
    expect_layouts_agree<float>(dims, 1e-5);
    expect_layouts_agree<double>(dims, 1e-12);
  }
}

// Channels with mean 1e4 and std 1e-3, in float32. eps is 1e-10 here so that it does not swamp a
// variance of 1e-6. xhat must match a float64 computation on the same float32 inputs to 1e-3.
constexpr double kStabilityEps = 1e-10;

struct StabilityData {
  TensorDesc desc{{64, 3, 8, 8}, Layout::kChannelsFirst};
  std::vector<float> x;
  std::vector<double> xhat_ref;
};

StabilityData make_stability_data() {
  StabilityData d;
  const Extents e = extents_of(d.desc, "test");
  d.x = random_vector<float>(numel(d.desc), 31, 1e4, 1e-3);
  d.xhat_ref.resize(d.x.size());
  for (int64_t c = 0; c < e.c; ++c) {
    std::vector<double> v;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) v.push_back(d.x[offset(e, n, c, s)]);
    const Moments m = moments_of(v);
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) {
        const size_t i = offset(e, n, c, s);
        d.xhat_ref[i] = (d.x[i] - m.mean) / std::sqrt(m.variance() + kStabilityEps);
      }
  }
  return d;
}

// Largest |a - r| / (1 + |r|): 1e-3 means xhat is right to 1e-3 relative (absolute near zero).
template <typename A>
double worst_error(const std::vector<A>& a, const std::vector<double>& r) {
  double worst = 0;
  for (size_t i = 0; i < r.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - r[i]) / (1 + std::abs(r[i])));
  return worst;
}

TEST(Stability, LargeMeanTinySpreadMatchesFloat64Reference) {
  const StabilityData d = make_stability_data();
  for (Backend backend : {Backend::kAuto, Backend::kReference}) {
    BatchNorm<float> bn({.num_features = 3, .eps = kStabilityEps, .backend = backend});
    std::vector<float> y(d.x.size());
    bn.forward(d.x, d.desc, y, Mode::kTrain);
    EXPECT_LT(worst_error(y, d.xhat_ref), 1e-3) << selected_kernel_name<float>(d.desc, backend);
  }
}

// The textbook formula var = E[x^2] - E[x]^2 fails the test above, even accumulated in float64:
// this shows the stability test has teeth.
TEST(Stability, TextbookVarianceFormulaFailsThisTest) {
  const StabilityData d = make_stability_data();
  const Extents e = extents_of(d.desc, "test");
  std::vector<double> xhat(d.x.size());
  for (int64_t c = 0; c < e.c; ++c) {
    double sum = 0, sum_sq = 0;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) {
        const float v = d.x[offset(e, n, c, s)];
        sum += v;
        sum_sq += static_cast<double>(v) * v;
      }
    const double m = static_cast<double>(e.per_channel());
    const double mean = sum / m, var = std::max(sum_sq / m - mean * mean, 0.0);
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) {
        const size_t i = offset(e, n, c, s);
        xhat[i] = (d.x[i] - mean) / std::sqrt(var + kStabilityEps);
      }
  }
  EXPECT_GT(worst_error(xhat, d.xhat_ref), 1e-3);
}

}  // namespace
}  // namespace bnorm::test
