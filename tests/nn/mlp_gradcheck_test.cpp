// The full MLP: the gradient of the mean cross-entropy w.r.t. every parameter against central
// differences, for each BN placement and both activations; and the builder's promises (layer
// order, where the pre-activation is, identical Linear weights with and without BN).
#include <gtest/gtest.h>

#include "bnorm/error.hpp"
#include "nn/linear.hpp"
#include "nn/mlp.hpp"
#include "nn/softmax_cross_entropy.hpp"
#include "nn_test_util.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

struct GradcheckCase {
  const char* name;
  Nonlinearity activation;
  BnPlacement bn;
};

class MlpGradcheck : public ::testing::TestWithParam<GradcheckCase> {};

TEST_P(MlpGradcheck, LossGradientMatchesFiniteDifferences) {
  const GradcheckCase& c = GetParam();
  Mlp mlp(MlpOptions{.sizes = {6, 5, 4, 3},
                     .activation = c.activation,
                     .bn = c.bn,
                     .init = {.scheme = InitScheme::kXavierUniform},
                     .seed = 7});
  Sequential& net = mlp.net();
  const int64_t batch = 8;
  const Tensor x = test::random_tensor(batch, 6, 21);
  const std::vector<int32_t> labels = {0, 1, 2, 0, 1, 2, 2, 1};
  SoftmaxCrossEntropy ce;
  auto loss = [&] { return ce.forward(net.forward(x.span(), batch, Phase::kTrain), labels); };

  loss();
  net.zero_grad();
  Tensor dlogits;
  ce.backward(dlogits);
  net.backward(dlogits);
  for (Parameter& p : net.parameters()) {
    const std::vector<float> analytic(p.grad.begin(), p.grad.end());
    const std::vector<double> numeric = test::numeric_grad(p.value, loss, 5e-3f);
    bnorm::test::expect_close<float, double>(analytic, numeric, 2e-4, 3e-2,
                                             std::string(c.name) + " d" + p.name);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Placements, MlpGradcheck,
    ::testing::Values(
        GradcheckCase{"sigmoid_no_bn", Nonlinearity::kSigmoid, BnPlacement::kNone},
        GradcheckCase{"sigmoid_bn_before", Nonlinearity::kSigmoid, BnPlacement::kBefore},
        GradcheckCase{"sigmoid_bn_after", Nonlinearity::kSigmoid, BnPlacement::kAfter},
        GradcheckCase{"relu_bn_before", Nonlinearity::kReLU, BnPlacement::kBefore}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MlpBuilder, PaperNetworkLayout) {
  Mlp plain = build_mlp({784, 100, 100, 100, 10}, Nonlinearity::kSigmoid, BnPlacement::kNone, 1);
  Mlp bn = build_mlp({784, 100, 100, 100, 10}, Nonlinearity::kSigmoid, BnPlacement::kBefore, 1);
  ASSERT_EQ(plain.net().size(), 7u);  // (linear sigmoid) x3, linear
  ASSERT_EQ(bn.net().size(), 10u);    // (linear bn sigmoid) x3, linear
  ASSERT_EQ(bn.hidden_layers(), 3u);
  EXPECT_EQ(bn.net().layer(bn.pre_activation_index(2)).kind(), "batch_norm");
  EXPECT_EQ(plain.net().layer(plain.pre_activation_index(2)).kind(), "linear");
  EXPECT_EQ(bn.net().layer(bn.pre_activation_index(2) + 1).kind(), "sigmoid");
  // BN before the activation drops the Linear bias; the output layer keeps it.
  EXPECT_TRUE(static_cast<Linear&>(bn.net().layer(bn.linear_index(0))).bias().empty());
  EXPECT_FALSE(static_cast<Linear&>(bn.net().layer(9)).bias().empty());
  EXPECT_FALSE(static_cast<Linear&>(plain.net().layer(0)).bias().empty());
  // Same seed: identical Linear weights with and without BN, layer by layer.
  for (size_t i = 0; i <= 3; ++i) {
    const size_t pi = i < 3 ? plain.linear_index(i) : 6, bi = i < 3 ? bn.linear_index(i) : 9;
    const auto wp = static_cast<Linear&>(plain.net().layer(pi)).weight();
    const auto wb = static_cast<Linear&>(bn.net().layer(bi)).weight();
    ASSERT_TRUE(std::equal(wp.begin(), wp.end(), wb.begin(), wb.end())) << "linear " << i;
  }
  // A different seed gives different weights.
  Mlp other = build_mlp({784, 100, 100, 100, 10}, Nonlinearity::kSigmoid, BnPlacement::kNone, 2);
  EXPECT_NE(static_cast<Linear&>(other.net().layer(0)).weight()[0],
            static_cast<Linear&>(plain.net().layer(0)).weight()[0]);
}

TEST(MlpBuilder, GaussianInitHasTheRequestedSigma) {
  Mlp mlp(MlpOptions{.sizes = {400, 300, 2}, .init = {.sigma = 0.5}, .seed = 3});
  const auto w = static_cast<Linear&>(mlp.net().layer(0)).weight();
  double sum = 0.0, sq = 0.0;
  for (float v : w) {
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(w.size());
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(sq / n), 0.5, 0.01);
}

TEST(MlpBuilder, PreActivationIsTheSigmoidInputAndCollectUnitReadsIt) {
  Mlp mlp = build_mlp({5, 4, 3, 2}, Nonlinearity::kSigmoid, BnPlacement::kBefore, 9,
                      {.scheme = InitScheme::kXavierUniform});
  const Tensor x = test::random_tensor(7, 5, 30);
  mlp.net().forward(x.span(), 7, Phase::kEval);
  const Tensor& pre = mlp.pre_activation(1);
  const Tensor& post = mlp.net().output_of(mlp.pre_activation_index(1) + 1);
  ASSERT_EQ(pre.cols(), 3);
  for (int64_t i = 0; i < pre.numel(); ++i) {
    EXPECT_NEAR(post[i], 1.0 / (1.0 + std::exp(-static_cast<double>(pre[i]))), 1e-6);
  }
  // Batches of 3 over 7 rows (a short last batch) give the same values as one batch of 7.
  const std::vector<float> unit =
      collect_unit(mlp.net(), mlp.pre_activation_index(1), 2, x.span(), 3, Phase::kEval);
  ASSERT_EQ(unit.size(), 7u);
  mlp.net().forward(x.span(), 7, Phase::kEval);
  for (int64_t r = 0; r < 7; ++r) EXPECT_FLOAT_EQ(unit[r], mlp.pre_activation(1)[r * 3 + 2]);
  EXPECT_THROW(collect_unit(mlp.net(), 99, 0, x.span(), 3, Phase::kEval), Error);
  EXPECT_THROW(collect_unit(mlp.net(), 1, 4, x.span(), 3, Phase::kEval), Error);
}

TEST(MlpBuilder, RejectsBadSizes) {
  EXPECT_THROW(build_mlp({5}, Nonlinearity::kReLU, BnPlacement::kNone, 0), Error);
  EXPECT_THROW(build_mlp({5, 0, 2}, Nonlinearity::kReLU, BnPlacement::kNone, 0), Error);
}

}  // namespace
}  // namespace bnorm::nn
