// bfloat16 kernels: every optimized build this CPU runs (AVX512_BF16, AVX-512F, AVX2, scalar) and
// the reference, against the float64 reference on the same (exactly widened) inputs, over a grid of
// shapes in every layout and mode, with fused relu. Outputs must be within bfloat16 rounding of the
// float64 value; statistics and parameter gradients, summed in float64 lanes, as close as float's.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernel_case.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::test {
namespace {

using Set = kernels::KernelSet<bfloat16>;

// A relative error of 2^-8 is what rounding to bfloat16 (8 significant bits) may add: half a unit
// in the last place at most, below 2^-8 of the value. The floor covers float32 arithmetic on
// values near 0 (y = k * (x - center) + bias cancels there).
constexpr double kRel = 1.0 / 256;
constexpr double kAbs = 1e-5;

std::vector<KernelCase> bf16_grid() {
  std::vector<KernelCase> cases;
  uint64_t seed = 500;
  const auto add = [&](int64_t n, int64_t c, int64_t s, Layout layout) {
    cases.push_back({{.n = n, .c = c, .s = s, .layout = layout}, seed++});
  };
  for (int64_t c : {1, 3, 7, 8, 9, 16, 17, 33, 100}) add(61, c, 1, Layout::kNC);
  add(2, 5, 1, Layout::kNC);
  add(3000, 9, 1, Layout::kNC);
  add(40, 1030, 1, Layout::kNC);  // row-order sums over two passes of columns
  add(50, 95, 1, Layout::kNC);    // L1 tiles with a tail vector
  add(2, 128, 20, Layout::kChannelsLast);
  for (int64_t c : {1, 3, 16, 33}) add(7, c, 9, Layout::kChannelsLast);
  add(4, 70, 100, Layout::kChannelsLast);   // several work items of rows
  add(2, 33, 4200, Layout::kChannelsLast);  // beyond L1: sums in row order
  add(5, 3, 1, Layout::kChannelsFirst);     // S = 1: row-major
  for (int64_t s : {2, 7, 15, 16, 17, 33, 196, 2049}) add(5, 3, s, Layout::kChannelsFirst);
  add(3, 40, 17, Layout::kChannelsFirst);     // channels in groups
  add(2, 1, 140000, Layout::kChannelsFirst);  // a channel split into items
  return cases;
}

// The case's inputs rounded to bfloat16, and the same values in float64 (exact).
struct Bf16Inputs {
  KernelInputs<double> wide;  // x, dy hold bfloat16 values
  KernelInputs<bfloat16> narrow;

  explicit Bf16Inputs(const KernelCase& kc) : wide(kc), narrow(kc) {
    narrow.x.resize(wide.x.size());
    narrow.dy.resize(wide.dy.size());
    for (size_t i = 0; i < wide.x.size(); ++i) {
      narrow.x[i] = bfloat16(wide.x[i]);
      narrow.dy[i] = bfloat16(wide.dy[i]);
      wide.x[i] = static_cast<double>(narrow.x[i]);
      wide.dy[i] = static_cast<double>(narrow.dy[i]);
    }
  }
};

void expect_within_bf16(const std::vector<bfloat16>& got, const std::vector<double>& exact,
                        const std::string& what) {
  std::vector<double> g(got.size());
  for (size_t i = 0; i < got.size(); ++i) g[i] = static_cast<double>(got[i]);
  expect_close<double, double>(g, exact, kAbs, kRel, what);
}

void check_forward(const Set& k, const KernelCase& kc, bool relu) {
  const Bf16Inputs in(kc);
  const std::string what = std::string(k.name) + " relu=" + std::to_string(relu) + " " + kc.name();
  const auto& ref = kernels::reference_kernels<double>();
  const auto exact = run_forward_train(ref, kc, in.wide, relu);
  const auto got = run_forward_train(k, kc, in.narrow, relu);
  expect_within_bf16(got.y, exact.y, what + " training y");
  for (size_t c = 0; c < exact.moments.size(); ++c) {
    const Moments& r = exact.moments[c];
    EXPECT_EQ(got.moments[c].count, r.count) << what;
    EXPECT_NEAR(got.moments[c].mean, r.mean, 1e-6 * (std::sqrt(r.variance()) + std::abs(r.mean)))
        << what << " channel " << c;
    EXPECT_NEAR(got.moments[c].m2, r.m2, 1e-5 * r.m2 + 1e-30) << what << " channel " << c;
    EXPECT_EQ(got.invstd[c], 1.0 / std::sqrt(got.moments[c].variance() + 1e-5)) << what;
  }
  expect_within_bf16(run_forward_infer(k, kc, in.narrow, relu),
                     run_forward_infer(ref, kc, in.wide, relu), what + " inference y");
}

void check_backward(const Set& k, const KernelCase& kc, bool relu, bool through_stats) {
  Bf16Inputs in(kc);
  const Extents& e = kc.e;
  // dy = 0 where the forward output is within float rounding of 0, where a float32 and a float64
  // relu mask may differ (as in the float kernel tests).
  std::vector<double> abs_dy(static_cast<size_t>(e.c)), abs_dy_xhat(abs_dy);
  for (int64_t n = 0; n < e.n; ++n)
    for (int64_t c = 0; c < e.c; ++c)
      for (int64_t s = 0; s < e.s; ++s) {
        const size_t i = offset(e, n, c, s);
        const double xhat = (in.wide.x[i] - in.wide.mean[c]) * in.wide.invstd[c];
        if (relu && std::abs(in.wide.gamma[c] * xhat + in.wide.beta[c]) < 1e-3) {
          in.wide.dy[i] = 0.0, in.narrow.dy[i] = bfloat16(0.0f);
        }
        abs_dy[c] += std::abs(in.wide.dy[i]);
        abs_dy_xhat[c] += std::abs(in.wide.dy[i] * xhat);
      }
  const std::string what = std::string(k.name) + " backward relu=" + std::to_string(relu) +
                           " through_stats=" + std::to_string(through_stats) + " " + kc.name();
  const auto exact = run_backward(kernels::reference_kernels<double>(), kc, in.wide, in.wide.dy,
                                  relu, through_stats, true);
  const auto got = run_backward(k, kc, in.narrow, in.narrow.dy, relu, through_stats, true);
  for (size_t c = 0; c < exact.dbeta.size(); ++c) {
    EXPECT_NEAR(got.dbeta[c], exact.dbeta[c], 2e-6 * abs_dy[c] + 1e-12) << what << " channel " << c;
    EXPECT_NEAR(got.dgamma[c], exact.dgamma[c], 2e-6 * abs_dy_xhat[c] + 1e-12)
        << what << " channel " << c;
  }
  // dx = k * (dy - dbeta / M - xhat * dgamma / M) cancels: float32 arithmetic on terms up to ~20
  // before the rounding to bfloat16.
  std::vector<double> g(got.dx.size());
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<double>(got.dx[i]);
  expect_close<double, double>(g, exact.dx, 5e-5, kRel, what + " dx");
  // In place (dx = dy) takes other tail paths: the same bits.
  std::vector<bfloat16> in_place = in.narrow.dy;
  std::vector<double> dgamma(exact.dgamma.size()), dbeta(dgamma);
  k.backward(in.narrow.x.data(), in_place.data(), e, in.narrow.mean.data(), in.narrow.invstd.data(),
             in.narrow.gamma.data(), in.narrow.beta.data(), relu, through_stats, in_place.data(),
             dgamma.data(), dbeta.data());
  EXPECT_TRUE(in_place == got.dx) << what << " in place";
}

// Outputs at every bfloat16 offset from a cache line (the non-temporal stores' plain ends, and
// the streamed lines under Kernels.streaming_stores): the same bits as at offset 0, and nothing
// written outside the output.
void check_every_alignment(const Set& k) {
  for (const KernelCase& kc :
       {KernelCase{{.n = 5, .c = 33, .s = 7, .layout = Layout::kChannelsLast}, 7},
        KernelCase{{.n = 15000, .c = 3, .s = 1, .layout = Layout::kNC}, 11},
        KernelCase{{.n = 3, .c = 2, .s = 197, .layout = Layout::kChannelsFirst}, 9}}) {
    const Bf16Inputs in(kc);
    const Extents& e = kc.e;
    const size_t numel = in.narrow.x.size();
    const bfloat16 nan = bfloat16(std::numeric_limits<float>::quiet_NaN());
    std::vector<bfloat16> y0, dx0;
    for (size_t off = 0; off < 32; ++off) {
      const std::string what =
          std::string(k.name) + " " + kc.name() + " offset " + std::to_string(off);
      std::vector<bfloat16> buffer(numel + 64, nan);
      const auto misaligned = reinterpret_cast<uintptr_t>(buffer.data()) % 64;
      bfloat16* out = buffer.data() + (misaligned == 0 ? 0 : (64 - misaligned) / 2) + off;
      std::vector<Moments> moments(static_cast<size_t>(e.c));
      std::vector<double> invstd(static_cast<size_t>(e.c)), dgamma(invstd), dbeta(invstd);
      const auto output_of = [&](const auto& call) {
        std::fill(buffer.begin(), buffer.end(), nan);
        call();
        const auto first = static_cast<size_t>(out - buffer.data());
        for (size_t i = 0; i < buffer.size(); ++i) {
          if (i < first || i >= first + numel) {
            EXPECT_TRUE(buffer[i] == nan) << what << " " << i;
          }
        }
        return std::vector<bfloat16>(out, out + numel);
      };
      const auto y = output_of([&] {
        k.forward_train(in.narrow.x.data(), e, in.narrow.gamma.data(), in.narrow.beta.data(), 1e-5,
                        false, out, moments.data(), invstd.data());
      });
      const auto dx = output_of([&] {
        k.backward(in.narrow.x.data(), in.narrow.dy.data(), e, in.narrow.mean.data(),
                   in.narrow.invstd.data(), in.narrow.gamma.data(), in.narrow.beta.data(), false,
                   true, out, dgamma.data(), dbeta.data());
      });
      if (off == 0) {
        y0 = y, dx0 = dx;
        const auto& ref = kernels::reference_kernels<double>();
        expect_within_bf16(y, run_forward_train(ref, kc, in.wide, false).y, what + " y");
      } else {
        EXPECT_TRUE(y == y0) << what << " y";
        EXPECT_TRUE(dx == dx0) << what << " dx";
      }
    }
  }
}

// Parameter: the index of a bfloat16 implementation in all_implementations (the reference last).
class Bf16Kernels : public testing::TestWithParam<size_t> {
 protected:
  const Set& set() const { return *kernels::all_implementations<bfloat16>()[GetParam()]; }
  void SetUp() override {
    const auto all = kernels::all_implementations<bfloat16>();
    if (GetParam() >= all.size()) GTEST_SKIP() << "no implementation " << GetParam();
    if (!kernels::cpu_runs(set())) GTEST_SKIP() << "this CPU cannot run " << set().name;
  }
};

TEST_P(Bf16Kernels, ForwardWithinBf16RoundingOfFloat64) {
  for (const KernelCase& kc : bf16_grid())
    for (bool relu : {false, true}) check_forward(set(), kc, relu);
}

TEST_P(Bf16Kernels, BackwardWithinBf16RoundingOfFloat64) {
  for (const KernelCase& kc : bf16_grid())
    for (bool relu : {false, true})
      for (bool through : {true, false}) check_backward(set(), kc, relu, through);
}

TEST_P(Bf16Kernels, OutputsAtEveryAlignment) { check_every_alignment(set()); }

// The optimized build against the bfloat16 reference on random shapes: every element within one
// unit in the last place (both round a value within float error of the same float64 value).
TEST_P(Bf16Kernels, MatchesTheReferenceOnRandomShapes) {
  std::mt19937_64 rng(2024 + GetParam());
  const auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  for (int trial = 0; trial < 12; ++trial) {
    const auto layout = static_cast<Layout>(pick(0, 2));
    const KernelCase kc{{.n = pick(2, 9),
                         .c = pick(1, 70),
                         .s = layout == Layout::kNC ? 1 : pick(1, 60),
                         .layout = layout},
                        static_cast<uint64_t>(700 + trial)};
    const KernelInputs<bfloat16> in(kc);
    const auto& ref = kernels::reference_kernels<bfloat16>();
    const bool relu = trial % 2 == 1;
    const auto ulps = [&](const std::vector<bfloat16>& a, const std::vector<bfloat16>& r,
                          const char* what) {
      for (size_t i = 0; i < a.size(); ++i) {
        const double av = static_cast<double>(a[i]), rv = static_cast<double>(r[i]);
        EXPECT_LE(std::abs(av - rv), kRel * 2 * std::abs(rv) + kAbs)
            << set().name << " " << what << " " << kc.name() << " index " << i << ": " << av
            << " vs " << rv;
      }
    };
    ulps(run_forward_train(set(), kc, in, relu).y, run_forward_train(ref, kc, in, relu).y,
         "training y");
    ulps(run_forward_infer(set(), kc, in, relu), run_forward_infer(ref, kc, in, relu), "y");
  }
}

INSTANTIATE_TEST_SUITE_P(Builds, Bf16Kernels, testing::Values(0, 1, 2, 3),
                         [](const testing::TestParamInfo<size_t>& info) {
                           const auto all = kernels::all_implementations<bfloat16>();
                           std::string name = info.param < all.size() ? all[info.param]->name : "x";
                           for (char& ch : name) ch = ch == '-' ? '_' : ch;
                           return name;
                         });

// The list for bfloat16: the AVX512_BF16 build first, then the float builds' order, the reference
// last; kAuto never picks a build this CPU cannot run.
TEST(Bf16Dispatch, ListAndRuntimeDetection) {
  std::vector<std::string> names;
  for (const Set* k : kernels::all_implementations<bfloat16>()) names.emplace_back(k->name);
  EXPECT_EQ(names, (std::vector<std::string>{"cpu-avx512-bf16", "cpu-avx512", "cpu-avx2",
                                             "cpu-scalar", "reference"}));
  EXPECT_TRUE(kernels::all_implementations<bfloat16>()[0]->needs_avx512_bf16);
  EXPECT_EQ(kernels::cpu_has_avx512_bf16(), kernels::cpu_supports(kernels::CpuIsa::kAvx512) &&
                                                __builtin_cpu_supports("avx512bf16") != 0);
  for (const Set* k : kernels::implementations<bfloat16>()) {
    EXPECT_TRUE(kernels::cpu_runs(*k)) << k->name;
  }
  const Set& best = kernels::cpu_kernels<bfloat16>(kernels::CpuIsa::kAvx512);
  if (kernels::cpu_has_avx512_bf16()) {
    EXPECT_STREQ(best.name, "cpu-avx512-bf16");
  } else if (kernels::cpu_supports(kernels::CpuIsa::kAvx512)) {
    EXPECT_STREQ(best.name, "cpu-avx512");
  }
}

}  // namespace
}  // namespace bnorm::test
