// The optimized kernels of every ISA this CPU runs against the reference kernels, on a grid of
// shapes (N x C, channels-first, channels-last; odd sizes, C = 1, S = 1, tails shorter than a
// vector, channels large enough to be split into work items) and every mode, with fused relu.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernel_case.hpp"
#include "kernels/cpu/scratch.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::kernels::wide_baseline {
// Defined in wide_vector_kernels.cpp.
template <typename T>
const KernelSet<T>& kernel_set();
}  // namespace bnorm::kernels::wide_baseline

namespace bnorm::test {
namespace {

using kernels::CpuIsa;

// The fewest rows whose backward tiles of two 64-byte vectors (x, dy, dx; 3 lines a row, unaligned)
// do not fit in the L1-tile budget, which one-vector tiles (2 lines a row) then do.
constexpr int64_t kBackwardTensors = 3, kTwoVectorTileLines = 3;
constexpr int64_t kOneVectorTileColumns = 95;

int64_t one_vector_tile_rows() {
  using kernels::tuning::kLineBytes;
  return kernels::l1_tile_budget_bytes() / (kBackwardTensors * kTwoVectorTileLines * kLineBytes) +
         1;
}

// The shape above takes the L1 tiles at all only as one work item larger than L1 (l1_tile_vectors);
// on a machine whose L1 moves it out of that range the grid would test the two-pass path instead.
TEST(KernelsVsReferenceGrid, OneVectorTileShapeIsAnL1TileProblemHere) {
  const int64_t numel = one_vector_tile_rows() * kOneVectorTileColumns;
  EXPECT_LE(numel, kernels::tuning::kItemElems);
  EXPECT_GT(numel * kBackwardTensors * static_cast<int64_t>(sizeof(float)),
            kernels::tuning::kL1Bytes);
}

// Samples of 250 x 196 floats whose x is just over kFromMemoryBytes, half of them over it as x
// and dy together.
constexpr int64_t kFromMemoryN = 86;

TEST(KernelsVsReferenceGrid, MemoryOrderShapesComeFromMemory) {
  namespace tuning = kernels::tuning;
  const auto x_bytes = [](int64_t n) { return n * 250 * 196 * int64_t{sizeof(float)}; };
  EXPECT_GT(x_bytes(kFromMemoryN), tuning::kFromMemoryBytes);
  EXPECT_LE(x_bytes(kFromMemoryN / 2), tuning::kFromMemoryBytes);
  EXPECT_GT(2 * x_bytes(kFromMemoryN / 2), tuning::kFromMemoryBytes);
  EXPECT_GE(196, tuning::kMemoryOrderMinStrip);
  EXPECT_LT(196, tuning::kLongStripElems);  // the backward takes memory order too
}

std::vector<KernelCase> shape_grid() {
  std::vector<KernelCase> cases;
  uint64_t seed = 100;
  const auto add = [&](int64_t n, int64_t c, int64_t s, Layout layout) {
    cases.push_back({{.n = n, .c = c, .s = s, .layout = layout}, seed++});
  };
  // Row-major [M, C]: widths around the vector widths (4, 8, 16 floats) and their doubles.
  for (int64_t c : {1, 3, 7, 15, 16, 17, 31, 32, 33, 100}) add(61, c, 1, Layout::kNC);
  add(2, 5, 1, Layout::kNC);
  add(3000, 9, 1, Layout::kNC);
  add(40, 1030, 1, Layout::kNC);         // several rows per work item, columns past two vectors
  add(40, 1024, 1, Layout::kNC);         // rows of a page: the statistics in column blocks
  add(5, 3, 1, Layout::kChannelsFirst);  // S = 1: row-major
  for (int64_t c : {1, 3, 16, 33}) add(7, c, 9, Layout::kChannelsLast);
  add(4, 70, 100, Layout::kChannelsLast);  // several work items of rows
  add(2, 3, 1, Layout::kChannelsLast);
  // One work item larger than L1 with few rows: the L1 tile path (row_major_l1_tiles.hpp). Tiles of
  // two vectors, one vector and a tail (95 columns, at 4, 8 and 16 lanes); two row blocks of the
  // sums in the forward (90 rows; its backward takes the rows); no tail (128 columns). Which of
  // them take one-vector tiles at 16 lanes depends on this machine's L1; the backward of
  // one_vector_tile_rows() x 95 always does.
  add(50, 95, 1, Layout::kNC);
  add(90, 48, 1, Layout::kNC);
  add(one_vector_tile_rows(), kOneVectorTileColumns, 1, Layout::kNC);
  add(2, 128, 20, Layout::kChannelsLast);
  // Larger than L1 (32 KiB), the statistics read rows in memory order (column_sums_in_row_order;
  // smaller shapes above take the column tiles): many work items with a tail vector, two items
  // without one. N 40 x C 1030 above needs two passes over the columns (1024 per pass).
  add(2, 33, 4200, Layout::kChannelsLast);
  add(3, 16, 700, Layout::kChannelsLast);
  // Channels-first strips around the vector widths and the 64-lane flush of partial sums.
  for (int64_t s : {2, 7, 15, 16, 17, 31, 32, 33, 49, 196, 2049})
    add(5, 3, s, Layout::kChannelsFirst);
  add(1, 1, 1000, Layout::kChannelsFirst);
  add(3, 40, 17, Layout::kChannelsFirst);     // channels in groups of 2
  add(2, 70, 9, Layout::kChannelsFirst);      // groups of 4, the last one shorter
  add(2, 32, 1100, Layout::kChannelsFirst);   // long strips in groups (of 2, as C / 16 allows)
  add(2, 1, 140000, Layout::kChannelsFirst);  // a channel too large for cache: split into items
  add(9, 2, 33333, Layout::kChannelsFirst);   // split, strips not a multiple of the item size
  // Inputs from memory: summed strip by strip in memory order (strips of 196, not whole vectors);
  // in the second only the backward's two inputs are that large.
  add(kFromMemoryN, 250, 196, Layout::kChannelsFirst);
  add(kFromMemoryN / 2, 250, 196, Layout::kChannelsFirst);
  return cases;
}

// Float tolerances. y = gamma * xhat + beta with |gamma * xhat| up to ~15 here: a few float
// roundings of values that size plus a relative 1e-6 error of the variance from float partial
// sums give well under 2e-5. In float64 the same kernels are exact to ~1e-13.
template <typename T>
double tol(double float_tol) {
  return sizeof(T) == 4 ? float_tol : float_tol * 1e-7;
}

// Elements from p to the next 64-byte boundary.
template <typename T>
size_t elements_to_line(const T* p) {
  const auto misaligned = reinterpret_cast<uintptr_t>(p) % 64;
  return misaligned == 0 ? 0 : (64 - misaligned) / sizeof(T);
}

template <typename T>
void check_forward_train(const kernels::KernelSet<T>& opt, const KernelCase& kc, bool relu) {
  const KernelInputs<T> in(kc);
  const auto ref = run_forward_train(kernels::reference_kernels<T>(), kc, in, relu);
  const auto got = run_forward_train(opt, kc, in, relu);
  const std::string what =
      std::string(opt.name) + " forward_train relu=" + std::to_string(relu) + " " + kc.name();
  expect_close<T, T>(got.y, ref.y, tol<T>(2e-5), tol<T>(2e-5), what + " y");
  for (size_t c = 0; c < ref.moments.size(); ++c) {
    const Moments& r = ref.moments[c];
    const Moments& g = got.moments[c];
    EXPECT_EQ(g.count, r.count) << what;
    // The mean to a millionth of a standard deviation, M2 to 1e-5 relative (float partial sums).
    EXPECT_NEAR(g.mean, r.mean, tol<T>(1e-6) * (std::sqrt(r.variance()) + std::abs(r.mean)))
        << what << " channel " << c;
    EXPECT_NEAR(g.m2, r.m2, tol<T>(1e-5) * r.m2 + 1e-30) << what << " channel " << c;
    // The module keeps this invstd instead of computing it again: it must be the very expression
    // (the relu mask of the backward depends on its bits).
    EXPECT_EQ(got.invstd[c], 1.0 / std::sqrt(g.variance() + 1e-5)) << what << " channel " << c;
  }
}

template <typename T>
void check_forward_infer(const kernels::KernelSet<T>& opt, const KernelCase& kc, bool relu) {
  const KernelInputs<T> in(kc);
  const auto ref = run_forward_infer(kernels::reference_kernels<T>(), kc, in, relu);
  const auto got = run_forward_infer(opt, kc, in, relu);
  expect_close<T, T>(
      got, ref, tol<T>(2e-5), tol<T>(2e-5),
      std::string(opt.name) + " forward_infer relu=" + std::to_string(relu) + " " + kc.name());
}

template <typename T>
void check_backward(const kernels::KernelSet<T>& opt, const KernelCase& kc, bool relu,
                    bool through_stats) {
  const KernelInputs<T> in(kc);
  const Extents& e = kc.e;
  // Where the forward output is within float rounding of 0 the relu mask may differ between a
  // float and a double computation; dy = 0 there makes both masks give the same gradient.
  std::vector<T> dy = in.dy;
  std::vector<double> abs_dy(static_cast<size_t>(e.c)), abs_dy_xhat(static_cast<size_t>(e.c));
  for (int64_t n = 0; n < e.n; ++n)
    for (int64_t c = 0; c < e.c; ++c)
      for (int64_t s = 0; s < e.s; ++s) {
        const size_t i = offset(e, n, c, s);
        const double xhat = (static_cast<double>(in.x[i]) - in.mean[c]) * in.invstd[c];
        if (relu && std::abs(in.gamma[c] * xhat + in.beta[c]) < 1e-3) dy[i] = T(0);
        abs_dy[c] += std::abs(static_cast<double>(dy[i]));
        abs_dy_xhat[c] += std::abs(static_cast<double>(dy[i]) * xhat);
      }
  for (bool want_dx : {true, false}) {
    const auto ref =
        run_backward(kernels::reference_kernels<T>(), kc, in, dy, relu, through_stats, want_dx);
    const auto got = run_backward(opt, kc, in, dy, relu, through_stats, want_dx);
    const std::string what = std::string(opt.name) + " backward relu=" + std::to_string(relu) +
                             " through_stats=" + std::to_string(through_stats) +
                             " dx=" + std::to_string(want_dx) + " " + kc.name();
    // Sums of M float products, partial sums in float over at most 64 values per lane: the error
    // stays below 2e-6 of the sum of the magnitudes of the terms.
    for (size_t c = 0; c < ref.dbeta.size(); ++c) {
      EXPECT_NEAR(got.dbeta[c], ref.dbeta[c], tol<T>(2e-6) * abs_dy[c] + 1e-12)
          << what << " dbeta channel " << c;
      EXPECT_NEAR(got.dgamma[c], ref.dgamma[c], tol<T>(2e-6) * abs_dy_xhat[c] + 1e-12)
          << what << " dgamma channel " << c;
    }
    // dx = k * (dy - dbeta / M - xhat * dgamma / M) with k = gamma * invstd up to ~5 and terms up
    // to ~20: a few float roundings of that size.
    if (!want_dx) continue;
    expect_close<T, T>(got.dx, ref.dx, tol<T>(5e-5), tol<T>(5e-5), what + " dx");
    // In place (dx = dy) takes other tail paths; the result must be the same bits.
    std::vector<T> in_place = dy;
    std::vector<double> dgamma(ref.dgamma.size()), dbeta(ref.dbeta.size());
    opt.backward(in.x.data(), in_place.data(), e, in.mean.data(), in.invstd.data(), in.gamma.data(),
                 in.beta.data(), relu, through_stats, in_place.data(), dgamma.data(), dbeta.data());
    EXPECT_TRUE(in_place == got.dx) << what << " in place";
  }
}

class KernelsVsReference : public testing::TestWithParam<CpuIsa> {
 protected:
  void SetUp() override {
    if (!kernels::cpu_supports(GetParam())) {
      GTEST_SKIP() << "this CPU cannot run the " << kernels::to_string(GetParam()) << " kernels";
    }
  }
};

TEST_P(KernelsVsReference, ForwardTrainFloat) {
  for (const KernelCase& kc : shape_grid())
    for (bool relu : {false, true})
      check_forward_train(kernels::cpu_kernels<float>(GetParam()), kc, relu);
}

TEST_P(KernelsVsReference, ForwardInferFloat) {
  for (const KernelCase& kc : shape_grid())
    for (bool relu : {false, true})
      check_forward_infer(kernels::cpu_kernels<float>(GetParam()), kc, relu);
}

TEST_P(KernelsVsReference, BackwardFloat) {
  for (const KernelCase& kc : shape_grid())
    for (bool relu : {false, true})
      for (bool through : {true, false})
        check_backward(kernels::cpu_kernels<float>(GetParam()), kc, relu, through);
}

TEST_P(KernelsVsReference, AllOpsDouble) {
  const auto& k = kernels::cpu_kernels<double>(GetParam());
  for (const KernelCase& kc : shape_grid()) {
    for (bool relu : {false, true}) {
      check_forward_train(k, kc, relu);
      check_forward_infer(k, kc, relu);
      check_backward(k, kc, relu, true);
    }
  }
}

// Outputs at every element offset from a cache line, for shapes whose rows and strips do not fill
// whole vectors and whose rows do, with one and with several row-major work items (C = 3 < L) and
// in L1 tiles (50 x 95): y, training y and dx must match the reference at offset 0 and be the same
// bits at every other offset, and nothing outside the output may be written. The non-temporal paths
// (Kernels.streaming_stores reruns this) split each span into plain-stored ends and streamed lines
// by the output's address, so each offset takes another split.
template <typename T>
void check_outputs_at_every_alignment(const kernels::KernelSet<T>& opt) {
  constexpr size_t kLine = 64 / sizeof(T);
  const auto nan = std::numeric_limits<T>::quiet_NaN();
  for (const KernelCase& kc :
       {KernelCase{{.n = 5, .c = 33, .s = 7, .layout = Layout::kChannelsLast}, 7},
        KernelCase{{.n = 2, .c = 33, .s = 600, .layout = Layout::kChannelsLast}, 10},
        KernelCase{{.n = 70, .c = 20, .s = 1, .layout = Layout::kNC}, 8},
        KernelCase{{.n = 50, .c = 95, .s = 1, .layout = Layout::kNC}, 12},
        KernelCase{{.n = 15000, .c = 3, .s = 1, .layout = Layout::kNC}, 11},
        // Rows of whole vectors: the streamed paths move the per-channel arrays (align_vectors).
        KernelCase{{.n = 3000, .c = 16, .s = 1, .layout = Layout::kNC}, 13},
        KernelCase{{.n = 4, .c = 32, .s = 300, .layout = Layout::kChannelsLast}, 14},
        KernelCase{{.n = 3, .c = 2, .s = 197, .layout = Layout::kChannelsFirst}, 9}}) {
    const KernelInputs<T> in(kc);
    const Extents& e = kc.e;
    const size_t numel = in.x.size();
    const auto& ref = kernels::reference_kernels<T>();
    const std::vector<T> ref_y = run_forward_infer(ref, kc, in, false);
    const std::vector<T> ref_y_train = run_forward_train(ref, kc, in, false).y;
    const std::vector<T> ref_dx = run_backward(ref, kc, in, in.dy, false, true, true).dx;
    std::vector<T> y0, y_train0, dx0;
    for (size_t offset = 0; offset < kLine; ++offset) {
      const std::string what = std::string(opt.name) + " " + kc.name() + " output offset " +
                               std::to_string(offset) + " elements";
      std::vector<T> buffer(numel + 2 * kLine);
      // 64-byte aligned start, then offset elements on.
      T* out = buffer.data() + elements_to_line(buffer.data()) + offset;
      std::vector<Moments> moments(static_cast<size_t>(e.c));
      std::vector<double> invstd(static_cast<size_t>(e.c)), dgamma(invstd), dbeta(invstd);
      // Runs one op into out after filling the whole buffer with NaN, and returns its output; the
      // elements around it must still be NaN.
      const auto output_of = [&](const char* op, const auto& call) {
        std::fill(buffer.begin(), buffer.end(), nan);
        call();
        const auto first = static_cast<size_t>(out - buffer.data());
        for (size_t i = 0; i < buffer.size(); ++i) {
          if (i >= first && i < first + numel) continue;
          EXPECT_TRUE(std::isnan(buffer[i])) << what << " " << op << " wrote element " << i;
        }
        return std::vector<T>(out, out + numel);
      };
      const auto y = output_of("inference", [&] {
        opt.forward_infer(in.x.data(), e, in.mean.data(), in.invstd.data(), in.gamma.data(),
                          in.beta.data(), false, out);
      });
      const auto y_train = output_of("training", [&] {
        opt.forward_train(in.x.data(), e, in.gamma.data(), in.beta.data(), 1e-5, false, out,
                          moments.data(), invstd.data());
      });
      const auto dx = output_of("backward", [&] {
        opt.backward(in.x.data(), in.dy.data(), e, in.mean.data(), in.invstd.data(),
                     in.gamma.data(), in.beta.data(), false, true, out, dgamma.data(),
                     dbeta.data());
      });
      if (offset == 0) {
        expect_close<T, T>(y, ref_y, tol<T>(2e-5), tol<T>(2e-5), what + " inference y");
        expect_close<T, T>(y_train, ref_y_train, tol<T>(2e-5), tol<T>(2e-5), what + " training y");
        expect_close<T, T>(dx, ref_dx, tol<T>(5e-5), tol<T>(5e-5), what + " dx");
        y0 = y, y_train0 = y_train, dx0 = dx;
      } else {
        EXPECT_TRUE(y == y0) << what << " inference y";
        EXPECT_TRUE(y_train == y_train0) << what << " training y";
        EXPECT_TRUE(dx == dx0) << what << " dx";
      }
    }
  }
}

TEST_P(KernelsVsReference, OutputsAtEveryAlignment) {
  check_outputs_at_every_alignment(kernels::cpu_kernels<float>(GetParam()));
  check_outputs_at_every_alignment(kernels::cpu_kernels<double>(GetParam()));
}

// The AVX-512 build's 16-float vectors, runnable on any x86-64 (wide_vector_kernels.cpp).
TEST(KernelsVsReferenceWideVectors, AllOpsFloat) {
  const auto& kf = kernels::wide_baseline::kernel_set<float>();
  for (const KernelCase& kc : shape_grid()) {
    for (bool relu : {false, true}) {
      check_forward_train(kf, kc, relu);
      check_forward_infer(kf, kc, relu);
      for (bool through : {true, false}) check_backward(kf, kc, relu, through);
    }
  }
  check_outputs_at_every_alignment(kf);
}

INSTANTIATE_TEST_SUITE_P(Isa, KernelsVsReference,
                         testing::Values(CpuIsa::kScalar, CpuIsa::kAvx2, CpuIsa::kAvx512),
                         [](const testing::TestParamInfo<CpuIsa>& info) {
                           return std::string(kernels::to_string(info.param));
                         });

}  // namespace
}  // namespace bnorm::test
