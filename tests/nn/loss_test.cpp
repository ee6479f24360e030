// Softmax cross-entropy against a double-precision evaluation, its gradient against finite
// differences, count_correct, the fast exp against std::exp, and label checks.
#include <gtest/gtest.h>

#include <cmath>

#include "bnorm/error.hpp"
#include "nn/fast_exp.hpp"
#include "nn/softmax_cross_entropy.hpp"
#include "nn_test_util.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

TEST(SoftmaxCrossEntropy, LossMatchesDoubleReferenceAndGradientMatchesDifferences) {
  Tensor logits = test::random_tensor(5, 4, 1, 3.0);
  logits[0] += 50.0f;  // a large logit: the max subtraction must keep this finite
  const std::vector<int32_t> labels = {3, 0, 1, 2, 0};
  double ref = 0.0;
  for (int64_t r = 0; r < 5; ++r) {
    double sum = 0.0;
    for (int64_t j = 0; j < 4; ++j) sum += std::exp(static_cast<double>(logits[r * 4 + j]));
    ref += std::log(sum) - logits[r * 4 + labels[static_cast<size_t>(r)]];
  }
  SoftmaxCrossEntropy ce;
  EXPECT_NEAR(ce.forward(logits, labels), ref / 5.0, 1e-6);
  Tensor dlogits;
  ce.backward(dlogits);
  const std::vector<double> numeric = test::numeric_grad(
      logits.span(), [&] { return ce.forward(logits, labels); }, 1e-2f);
  bnorm::test::expect_close<float, double>(dlogits.span(), numeric, 1e-4, 1e-2, "dlogits");
}

TEST(SoftmaxCrossEntropy, CountCorrectAndLabelChecks) {
  Tensor logits;
  logits.resize(3, 3);
  const float values[] = {0, 2, 1, 5, 1, 1, 0, 0, 0};
  std::copy(std::begin(values), std::end(values), logits.data());
  EXPECT_EQ(count_correct(logits, std::vector<int32_t>{1, 0, 0}), 3);  // tie: first maximum
  EXPECT_EQ(count_correct(logits, std::vector<int32_t>{2, 0, 1}), 1);
  SoftmaxCrossEntropy ce;
  EXPECT_THROW(ce.forward(logits, std::vector<int32_t>{0, 3, 0}), Error);
  EXPECT_THROW(ce.forward(logits, std::vector<int32_t>{0, 1}), Error);
}

TEST(FastExp, WithinAFewUlpOfStdExp) {
  double worst = 0.0;
  for (float x = -87.0f; x <= 88.0f; x += 0.01237f) {
    const double ref = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(fast_exp(x) - ref) / ref);
  }
  EXPECT_LT(worst, 5e-7);
  std::vector<float> in = {-200.0f, 0.0f, 1.0f, 200.0f}, out(4);
  exp_array(in, out);
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_NEAR(out[2], std::exp(1.0), 1e-6);
  EXPECT_GE(out[0], 0.0f);
  EXPECT_TRUE(std::isfinite(out[3]));
}

}  // namespace
}  // namespace bnorm::nn
