// float32 accuracy against PyTorch's: every ISA build (and the reference) solves the problems of
// scripts/make_accuracy_golden.py and each output must be within twice PyTorch float32's own
// error against the float64 result on the same float32 inputs, or 1e-5, whichever is larger.
// Errors are elementwise relative with a floor of 1e-3 of the field's largest value.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "golden_file.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::test {
namespace {

using golden::GoldenArray;
using golden::GoldenCase;
using kernels::CpuIsa;
using kernels::KernelSet;

// What PyTorch's float32 error is allowed to grow by, and the smallest bound.
constexpr double kFactor = 2.0;
constexpr double kMinBound = 1e-5;
// Elementwise relative error divides by max(|exact|, kFloor * the field's largest |exact|).
constexpr double kFloor = 1e-3;

std::string data_dir() {
  const char* env = std::getenv("BNORM_ACCURACY_DIR");
  return env != nullptr && *env != '\0' ? env : BNORM_ACCURACY_DIR;
}

// max_i |got_i - exact_i| / max(|exact_i|, kFloor * max |exact|).
template <typename V>
double field_error(const V& got, const std::vector<double>& exact) {
  double largest = 0.0;
  for (double v : exact) largest = std::max(largest, std::abs(v));
  double worst = 0.0;
  for (size_t i = 0; i < exact.size(); ++i) {
    const double scale = std::max(std::abs(exact[i]), kFloor * largest);
    const double err = std::abs(static_cast<double>(got[i]) - exact[i]);
    worst = std::max(worst, scale > 0.0 ? err / scale : err);
  }
  return worst;
}

struct Outputs {
  std::vector<float> y, dx, running_mean, running_var;
  std::vector<double> dgamma, dbeta;
};

// One training step as bnorm::BatchNorm takes it: forward, running statistics updated from mean
// 0 and variance 1 as update_running_stats does, backward through the batch statistics.
Outputs solve(const KernelSet<float>& k, const GoldenCase& g) {
  const GoldenArray& xa = g.array("x");
  Extents e;
  e.n = xa.dims[0];
  e.c = xa.dims[1];
  for (size_t d = 2; d < xa.dims.size(); ++d) e.s *= xa.dims[d];
  const std::string layout = g.option("layout");
  e.layout = layout == "nc"              ? Layout::kNC
             : layout == "channels_last" ? Layout::kChannelsLast
                                         : Layout::kChannelsFirst;
  const std::vector<float> x(xa.values.begin(), xa.values.end());
  const std::vector<float> dy(g.array("dy").values.begin(), g.array("dy").values.end());
  const std::vector<double>& gamma = g.array("gamma").values;
  const std::vector<double>& beta = g.array("beta").values;
  const auto c = static_cast<size_t>(e.c);
  Outputs out{std::vector<float>(x.size()), std::vector<float>(x.size()), std::vector<float>(c),
              std::vector<float>(c),        std::vector<double>(c),       std::vector<double>(c)};
  std::vector<Moments> moments(c);
  std::vector<double> invstd(c), mean(c);
  k.forward_train(x.data(), e, gamma.data(), beta.data(), g.option_number("eps"), false,
                  out.y.data(), moments.data(), invstd.data());
  const double m = g.option_number("momentum");
  for (size_t i = 0; i < c; ++i) {
    mean[i] = moments[i].mean;
    out.running_mean[i] = static_cast<float>(m * moments[i].mean);
    out.running_var[i] = static_cast<float>((1.0 - m) + m * moments[i].unbiased_variance());
  }
  k.backward(x.data(), dy.data(), e, mean.data(), invstd.data(), gamma.data(), beta.data(), false,
             true, out.dx.data(), out.dgamma.data(), out.dbeta.data());
  return out;
}

// "" when every field is within its bound, else one line per field that is not.
std::string check_case(const KernelSet<float>& k, const GoldenCase& g, const std::string& name) {
  const Outputs out = solve(k, g);
  std::ostringstream failures;
  const auto check = [&](const char* field, const auto& got) {
    const std::string f = field;
    const std::vector<double>& exact = g.array(f + "_f64").values;
    const double torch_error = field_error(g.array(f + "_f32").values, exact);
    const double bound = std::max(kFactor * torch_error, kMinBound);
    const double error = field_error(got, exact);
    if (!(error <= bound)) {
      failures << name << " " << field << ": error " << error << " > bound " << bound
               << " (PyTorch float32: " << torch_error << ")\n";
    }
  };
  check("y", out.y);
  check("dx", out.dx);
  check("dgamma", out.dgamma);
  check("dbeta", out.dbeta);
  check("running_mean", out.running_mean);
  check("running_var", out.running_var);
  return failures.str();
}

enum class Impl { kAvx512, kAvx2, kScalar, kReference };

class Float32Accuracy : public testing::TestWithParam<Impl> {};

TEST_P(Float32Accuracy, WithinTwicePyTorchFloat32Error) {
  const Impl impl = GetParam();
  const CpuIsa isa = impl == Impl::kAvx512 ? CpuIsa::kAvx512
                     : impl == Impl::kAvx2 ? CpuIsa::kAvx2
                                           : CpuIsa::kScalar;
  if (impl != Impl::kReference && !kernels::cpu_supports(isa)) {
    GTEST_SKIP() << "this CPU cannot run the " << kernels::to_string(isa) << " kernels";
  }
  const std::string dir = data_dir();
  if (!std::filesystem::exists(dir + "/cases.txt")) {
    GTEST_SKIP() << "accuracy cases are missing (" << dir << "/cases.txt); build with a Python "
                 << "that imports torch, or run scripts/make_accuracy_golden.py " << dir;
  }
  const KernelSet<float>& k = impl == Impl::kReference ? kernels::reference_kernels<float>()
                                                       : kernels::cpu_kernels<float>(isa);
  const std::vector<std::string> names = golden::read_case_list(dir + "/cases.txt");
  ASSERT_FALSE(names.empty());
  std::string failures;
  for (const std::string& name : names) {
    failures += check_case(k, golden::read_golden_case(dir + "/" + name + ".golden"), name);
  }
  EXPECT_EQ(failures, "") << k.name << " is less accurate than PyTorch's float32";
}

INSTANTIATE_TEST_SUITE_P(Impl, Float32Accuracy,
                         testing::Values(Impl::kAvx512, Impl::kAvx2, Impl::kScalar,
                                         Impl::kReference),
                         [](const testing::TestParamInfo<Impl>& info) {
                           switch (info.param) {
                             case Impl::kAvx512:
                               return std::string("avx512");
                             case Impl::kAvx2:
                               return std::string("avx2");
                             case Impl::kScalar:
                               return std::string("scalar");
                             default:
                               return std::string("reference");
                           }
                         });

}  // namespace
}  // namespace bnorm::test
