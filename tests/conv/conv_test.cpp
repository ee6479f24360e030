// Convolution and pooling against their definitions: the im2col/GEMM forward against the direct
// double loops, and every backward against central differences of the double definition with the
// loss sum(y * r).
#include <gtest/gtest.h>
#include <omp.h>

#include <functional>

#include "bnorm/error.hpp"
#include "nn/conv/conv2d.hpp"
#include "nn/conv/pool2d.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

using test::expect_close;
using test::random_vector;

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// d/dv of loss() by central differences, perturbing every element of v.
std::vector<double> numeric_grad(std::vector<double>& v, const std::function<double()>& loss) {
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double saved = v[i];
    v[i] = saved + 1e-3;
    const double plus = loss();
    v[i] = saved - 1e-3;
    const double minus = loss();
    v[i] = saved;
    g[i] = (plus - minus) / 2e-3;
  }
  return g;
}

class Conv2dTest : public testing::TestWithParam<Conv2dShape> {};

TEST_P(Conv2dTest, ForwardAndBackwardMatchTheDefinition) {
  const Conv2dShape s = GetParam();
  const auto x = random_vector<float>(s.n * s.c * s.h * s.w, 1);
  const auto w = random_vector<float>(s.k * s.col_rows(), 2, 0.0, 0.3);
  const auto b = random_vector<float>(s.k, 3);
  const int64_t ny = s.n * s.k * s.out_h() * s.out_w();
  const auto r = random_vector<double>(ny, 4);
  std::vector<float> y(ny), col(s.col_rows() * s.col_cols()), dcol(col.size());
  conv2d_forward(s, x, w, b, y, col);

  auto xd = to_double(x), wd = to_double(w), bd = to_double(b);
  std::vector<double> yd(ny);
  conv2d_forward_direct(s, xd, wd, bd, yd);
  expect_close<float, double>(y, yd, 1e-4, 1e-4, "y");

  std::vector<float> dy(r.begin(), r.end()), dx(x.size(), 123.0f), dw(w.size(), 0.5f),
      db(b.size(), -0.25f);
  conv2d_backward(s, dy, w, col, dx, dw, db, dcol);
  auto loss = [&] {
    conv2d_forward_direct(s, xd, wd, bd, yd);
    double l = 0;
    for (int64_t i = 0; i < ny; ++i) l += yd[i] * r[i];
    return l;
  };
  expect_close<float, double>(dx, numeric_grad(xd, loss), 1e-4, 1e-4, "dx (overwritten)");
  auto dw_num = numeric_grad(wd, loss), db_num = numeric_grad(bd, loss);
  for (double& v : dw_num) v += 0.5;  // dweight and dbias accumulate onto what was there
  for (double& v : db_num) v -= 0.25;
  expect_close<float, double>(dw, dw_num, 1e-4, 1e-4, "dweight (accumulated)");
  expect_close<float, double>(db, db_num, 1e-4, 1e-4, "dbias (accumulated)");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Conv2dTest,
    testing::Values(
        Conv2dShape{.n = 2, .c = 1, .h = 6, .w = 5, .k = 3},
        Conv2dShape{.n = 3, .c = 2, .h = 7, .w = 7, .k = 4, .pad = 1},
        Conv2dShape{
            .n = 2, .c = 3, .h = 8, .w = 9, .k = 2, .kh = 3, .kw = 2, .stride = 2, .pad = 1},
        Conv2dShape{.n = 1, .c = 2, .h = 5, .w = 5, .k = 2, .kh = 5, .kw = 5},
        // The batch split into blocks (even, uneven, more blocks than images: clamped to n).
        Conv2dShape{.n = 4, .c = 2, .h = 6, .w = 6, .k = 3, .pad = 1, .batch_blocks = 2},
        Conv2dShape{.n = 5, .c = 2, .h = 7, .w = 6, .k = 3, .stride = 2, .batch_blocks = 3},
        Conv2dShape{.n = 2, .c = 1, .h = 5, .w = 5, .k = 2, .batch_blocks = 8}));

struct ConvOutputs {
  std::vector<float> y, dx, dw, db;
};

ConvOutputs run_conv(const Conv2dShape& s) {
  const auto x = random_vector<float>(s.n * s.c * s.h * s.w, 11);
  const auto w = random_vector<float>(s.k * s.col_rows(), 12, 0.0, 0.3);
  const auto b = random_vector<float>(s.k, 13);
  const auto dy = random_vector<float>(s.n * s.k * s.out_h() * s.out_w(), 14);
  ConvOutputs o{.y = std::vector<float>(dy.size()),
                .dx = std::vector<float>(x.size(), 7.0f),
                .dw = std::vector<float>(w.size(), 0.5f),
                .db = std::vector<float>(b.size(), -0.25f)};
  std::vector<float> col(s.col_rows() * s.col_cols()), dcol(col.size());
  conv2d_forward(s, x, w, b, o.y, col);
  conv2d_backward(s, dy, w, col, o.dx, o.dw, o.db, dcol);
  return o;
}

bool bitwise_equal(const ConvOutputs& a, const ConvOutputs& b) {
  return a.y == b.y && a.dx == b.dx && a.dw == b.dw && a.db == b.db;
}

// The batch split runs its blocks on OpenMP threads: the result must not depend on how many ran
// them (bitwise), and must match the one-block whole-batch GEMM up to float summation order.
TEST(Conv2d, BlocksGiveTheSameResultAtAnyThreadCount) {
  Conv2dShape s{.n = 7, .c = 3, .h = 9, .w = 8, .k = 5, .pad = 1};
  const int saved = omp_get_max_threads();
  const ConvOutputs whole = run_conv(s);
  s.batch_blocks = 3;
  omp_set_num_threads(1);
  const ConvOutputs one_thread = run_conv(s);
  omp_set_num_threads(2);
  const ConvOutputs two_threads = run_conv(s), again = run_conv(s);
  omp_set_num_threads(3);
  const ConvOutputs three_threads = run_conv(s);
  omp_set_num_threads(saved);
  EXPECT_TRUE(bitwise_equal(one_thread, two_threads)) << "1 vs 2 threads, 3 blocks";
  EXPECT_TRUE(bitwise_equal(two_threads, again)) << "2 threads, run to run";
  EXPECT_TRUE(bitwise_equal(one_thread, three_threads)) << "1 vs 3 threads, 3 blocks";
  expect_close<float, float>(two_threads.y, whole.y, 1e-5, 1e-5, "y, 3 blocks vs 1");
  expect_close<float, float>(two_threads.dx, whole.dx, 1e-5, 1e-5, "dx, 3 blocks vs 1");
  expect_close<float, float>(two_threads.dw, whole.dw, 1e-4, 1e-5, "dweight, 3 blocks vs 1");
  expect_close<float, float>(two_threads.db, whole.db, 1e-4, 1e-5, "dbias, 3 blocks vs 1");
}

TEST(Conv2d, BadShapesAreRefused) {
  EXPECT_THROW(check_conv2d_shape({.n = 1, .c = 1, .h = 2, .w = 2, .k = 1}), Error);  // 3x3 > 2x2
  EXPECT_THROW(check_conv2d_shape({.n = 0, .c = 1, .h = 5, .w = 5, .k = 1}), Error);
  check_conv2d_shape({.n = 1, .c = 1, .h = 2, .w = 2, .k = 1, .pad = 1});
}

template <typename Fwd>
std::vector<double> pool_forward_double(const Pool2dShape& s, const std::vector<double>& x,
                                        Fwd reduce) {
  std::vector<double> y(s.out_numel());
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t oy = 0; oy < s.out_h(); ++oy)
      for (int64_t ox = 0; ox < s.out_w(); ++ox) {
        std::vector<double> window;
        for (int64_t i = 0; i < s.size; ++i)
          for (int64_t j = 0; j < s.size; ++j)
            window.push_back(x[(p * s.h + oy * s.stride + i) * s.w + ox * s.stride + j]);
        y[(p * s.out_h() + oy) * s.out_w() + ox] = reduce(window);
      }
  return y;
}

TEST(Pool2d, MaxAndAveragePoolingMatchTheirDefinitions) {
  for (const Pool2dShape s :
       {Pool2dShape{.n = 2, .c = 3, .h = 6, .w = 4},
        Pool2dShape{.n = 1, .c = 2, .h = 7, .w = 7, .size = 3, .stride = 2}}) {
    const auto x = random_vector<float>(s.n * s.c * s.h * s.w, 5);
    const auto r = random_vector<double>(s.out_numel(), 6);
    auto xd = to_double(x);
    auto max_of = [](const std::vector<double>& w) {
      return *std::max_element(w.begin(), w.end());
    };
    auto mean_of = [](const std::vector<double>& w) {
      double a = 0;
      for (double v : w) a += v;
      return a / static_cast<double>(w.size());
    };
    std::vector<float> y(s.out_numel()), dx(x.size(), 9.0f);
    std::vector<int32_t> argmax(y.size());
    std::vector<float> dy(r.begin(), r.end());
    auto loss_with = [&](auto reduce) {
      return [&, reduce] {
        const auto yd = pool_forward_double(s, xd, reduce);
        double l = 0;
        for (size_t i = 0; i < yd.size(); ++i) l += yd[i] * r[i];
        return l;
      };
    };

    max_pool2d_forward(s, x, y, argmax);
    expect_close<float, double>(y, pool_forward_double(s, xd, max_of), 0, 0, "max y");
    max_pool2d_backward(s, dy, argmax, dx);
    expect_close<float, double>(dx, numeric_grad(xd, loss_with(max_of)), 1e-5, 1e-5, "max dx");

    avg_pool2d_forward(s, x, y);
    expect_close<float, double>(y, pool_forward_double(s, xd, mean_of), 1e-6, 1e-6, "avg y");
    std::fill(dx.begin(), dx.end(), 9.0f);
    avg_pool2d_backward(s, dy, dx);
    expect_close<float, double>(dx, numeric_grad(xd, loss_with(mean_of)), 1e-5, 1e-5, "avg dx");
  }
}

}  // namespace
}  // namespace bnorm::nn
