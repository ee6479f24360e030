// PyTorch parity: replays each golden case (scripts/make_golden.py) through bnorm::BatchNorm, step
// by step, and compares y, dx, dgamma, dbeta and the running statistics with |a - r| <= atol +
// rtol * |r|. PyTorch's train() maps to Mode::kTrain, eval() to Mode::kInference; a module
// without running statistics uses batch statistics in both, Mode::kBatchStats.
#include <gtest/gtest.h>

#include <algorithm>
#include <bnorm/batch_norm.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "golden_file.hpp"

namespace {

using bnorm::BatchNorm;
using bnorm::Mode;
using bnorm::golden::GoldenArray;
using bnorm::golden::GoldenCase;

// Must list what scripts/make_golden.py writes; GoldenCases.ScriptAndTestAgree checks it does.
const std::vector<std::string> kCases = {
    "nc_f32",
    "ncl_f32_cumulative",
    "nchw_f32",
    "nchw_f32_cumulative",
    "nhwc_f32",
    "ncdhw_f32_cumulative",
    "ndhwc_f64",
    "nchw_f64",
    "nc_f64_cumulative",
    "nchw_f32_no_affine",
    "nchw_f32_no_running_stats",
    "nc_f32_tiny",
    "nc_f64_tiny",
};

// float32: PyTorch and bnorm each round differently (float vs double accumulation), a few ulps.
// float64: both compute in double; the remaining differences are summation order.
struct Tolerance {
  double rtol;
  double atol;
};
template <typename T>
constexpr Tolerance kTolerance =
    std::is_same_v<T, float> ? Tolerance{1e-5, 1e-6} : Tolerance{1e-12, 1e-14};

// BNORM_GOLDEN_DIR in the environment overrides the build tree's directory.
std::string golden_dir() {
  const char* env = std::getenv("BNORM_GOLDEN_DIR");
  return env != nullptr && *env != '\0' ? env : BNORM_GOLDEN_DIR;
}

std::string how_to_generate(const std::string& dir) {
  return "generate them with `/usr/bin/python3 scripts/make_golden.py " + dir +
         "` (needs python3-torch), or reconfigure with -DPython3_EXECUTABLE=/usr/bin/python3 "
         "and rebuild";
}

bnorm::Layout layout_of(const std::string& name) {
  if (name == "nc") return bnorm::Layout::kNC;
  if (name == "channels_first") return bnorm::Layout::kChannelsFirst;
  if (name == "channels_last") return bnorm::Layout::kChannelsLast;
  throw std::runtime_error("unknown layout in golden file: " + name);
}

template <typename T>
std::vector<T> values_of(const GoldenArray& a) {
  return std::vector<T>(a.values.begin(), a.values.end());
}

// Compares one array and tracks the worst error relative to what the tolerance allows.
class Comparer {
 public:
  Comparer(const GoldenCase& g, Tolerance tol) : g_(g), tol_(tol) {}

  template <typename T>
  void expect_close(const std::string& name, std::span<const T> got) {
    const GoldenArray& want = g_.array(name);
    ASSERT_EQ(got.size(), want.values.size()) << where(name);
    int failures = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      const double a = static_cast<double>(got[i]), r = want.values[i];
      const double allowed = tol_.atol + tol_.rtol * std::abs(r);
      const double ratio = std::abs(a - r) / allowed;
      if (!(ratio <= 1.0)) {  // also catches NaN
        ADD_FAILURE() << where(name) << " index " << i << ": bnorm " << a << ", PyTorch " << r
                      << ", |diff| " << std::abs(a - r) << " > " << allowed;
        if (++failures == 10) return;
      }
      if (ratio > worst_ratio_) {
        worst_ratio_ = ratio;
        worst_ = name + "[" + std::to_string(i) + "]";
      }
    }
  }

  std::string where(const std::string& name) const {
    std::ostringstream out;
    out.precision(17);
    out << "case " << g_.path << " (seed " << g_.option("seed") << "), array " << name << ":";
    return out.str();
  }
  double worst_ratio() const { return worst_ratio_; }
  const std::string& worst() const { return worst_; }

 private:
  const GoldenCase& g_;
  Tolerance tol_;
  double worst_ratio_ = 0.0;
  std::string worst_ = "none";
};

// One forward + backward on the batch x_<tag> with upstream gradient dy_<tag>.
template <typename T>
void replay_step(BatchNorm<T>& bn, const GoldenCase& g, const std::string& tag, Mode mode,
                 Comparer& cmp) {
  const GoldenArray& xa = g.array("x_" + tag);
  const bnorm::TensorDesc desc{xa.dims, layout_of(g.option("layout"))};
  const std::vector<T> x = values_of<T>(xa), dy = values_of<T>(g.array("dy_" + tag));
  std::vector<T> y(x.size());
  // dx is documented as overwritten: garbage in it must not show through.
  std::vector<T> dx(x.size(), std::numeric_limits<T>::quiet_NaN());
  bn.zero_grad();  // PyTorch's side calls module.zero_grad() before every step
  bn.forward(x, desc, y, mode);
  bn.backward(x, dy, dx);
  cmp.expect_close<T>("y_" + tag, y);
  cmp.expect_close<T>("dx_" + tag, dx);
  if (bn.options().affine) {
    cmp.expect_close<T>("dgamma_" + tag, bn.grad_gamma());
    cmp.expect_close<T>("dbeta_" + tag, bn.grad_beta());
  }
}

bnorm::BatchNormOptions options_of(const GoldenCase& g, bnorm::Backend backend) {
  bnorm::BatchNormOptions opt;
  opt.num_features = g.array("x_0").dims.at(1);
  opt.eps = g.option_number("eps");
  if (g.option("momentum") == "none")
    opt.momentum = std::nullopt;
  else
    opt.momentum = g.option_number("momentum");
  opt.affine = g.option("affine") == "1";
  opt.track_running_stats = g.option("track_running_stats") == "1";
  opt.layout = layout_of(g.option("layout"));
  opt.backend = backend;
  return opt;
}

template <typename T>
void replay(const GoldenCase& g, bnorm::Backend backend, const std::string& label) {
  Comparer cmp(g, kTolerance<T>);
  BatchNorm<T> bn(options_of(g, backend));
  if (bn.options().affine) {
    const std::vector<T> gamma = values_of<T>(g.array("gamma")),
                         beta = values_of<T>(g.array("beta"));
    std::copy(gamma.begin(), gamma.end(), bn.gamma().begin());
    std::copy(beta.begin(), beta.end(), bn.beta().begin());
  }
  const bool tracked = bn.options().track_running_stats;
  const int steps = static_cast<int>(g.option_number("train_steps"));
  for (int k = 0; k < steps; ++k) {
    const std::string tag = std::to_string(k);
    replay_step(bn, g, tag, tracked ? Mode::kTrain : Mode::kBatchStats, cmp);
    if (!tracked) continue;
    cmp.expect_close<T>("running_mean_" + tag, bn.running_mean());
    cmp.expect_close<T>("running_var_" + tag, bn.running_var());
    EXPECT_EQ(static_cast<double>(bn.num_batches_tracked()),
              g.array("num_batches_tracked_" + tag).values.at(0))
        << cmp.where("num_batches_tracked_" + tag);
  }
  replay_step(bn, g, "eval", tracked ? Mode::kInference : Mode::kBatchStats, cmp);
  std::cout << label << ": worst |a - r| / (atol + rtol |r|) = " << cmp.worst_ratio() << " at "
            << cmp.worst() << "\n";
}

struct GoldenParam {
  std::string name;
  bnorm::Backend backend;
};

void PrintTo(const GoldenParam& p, std::ostream* out) {
  *out << p.name << (p.backend == bnorm::Backend::kReference ? " [reference]" : " [auto]");
}

class Golden : public ::testing::TestWithParam<GoldenParam> {};

TEST_P(Golden, MatchesPyTorch) {
  const std::string dir = golden_dir();
  const std::string path = dir + "/" + GetParam().name + ".golden";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << "golden file " << path << " is missing; " << how_to_generate(dir);
  const GoldenCase g = bnorm::golden::read_golden_case(path);
  const bool reference = GetParam().backend == bnorm::Backend::kReference;
  const std::string label = GetParam().name + (reference ? " [reference]" : " [auto]");
  if (g.option("dtype") == "float32")
    replay<float>(g, GetParam().backend, label);
  else
    replay<double>(g, GetParam().backend, label);
}

std::vector<GoldenParam> all_params() {
  std::vector<GoldenParam> params;
  for (const auto& name : kCases) {
    params.push_back({name, bnorm::Backend::kReference});
    params.push_back({name, bnorm::Backend::kAuto});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(PyTorch, Golden, ::testing::ValuesIn(all_params()),
                         [](const ::testing::TestParamInfo<GoldenParam>& info) {
                           const bool reference = info.param.backend == bnorm::Backend::kReference;
                           return info.param.name + (reference ? "_reference" : "_auto");
                         });

// A case added to the script but not to kCases would otherwise go untested without a sound.
TEST(GoldenCases, ScriptAndTestAgree) {
  const std::string dir = golden_dir();
  const std::string path = dir + "/cases.txt";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << "golden files are missing (" << path << "); " << how_to_generate(dir);
  EXPECT_EQ(bnorm::golden::read_case_list(path), kCases)
      << "scripts/make_golden.py and kCases in " << __FILE__ << " list different cases";
}

}  // namespace
