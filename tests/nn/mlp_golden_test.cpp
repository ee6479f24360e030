// Parity with PyTorch: scripts/make_mlp_golden.py trains small MLPs (BN before, after, none) with
// torch.optim.SGD for a few steps; here the same initial parameters and batches go through
// build_mlp + Sgd + ClassifierTrainer, and the losses, final parameters, running statistics and
// eval-mode logits must agree to float32 rounding. Skipped (visibly) when the files are missing.
#include <gtest/gtest.h>

#include <filesystem>

#include "golden_file.hpp"
#include "nn/mlp.hpp"
#include "optim/classifier_trainer.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

using golden::GoldenCase;

std::vector<std::string> case_names() {
  const std::string list = std::string(BNORM_MLP_GOLDEN_DIR) + "/cases.txt";
  if (!std::filesystem::exists(list)) return {"missing"};
  return golden::read_case_list(list);
}

std::vector<float> to_float(const golden::GoldenArray& a) {
  return {a.values.begin(), a.values.end()};
}

class MlpGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(MlpGolden, SgdStepsMatchPyTorch) {
  const std::string path = std::string(BNORM_MLP_GOLDEN_DIR) + "/" + GetParam() + ".golden";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "no golden file " << path
                 << ": configure with -DPython3_EXECUTABLE=/usr/bin/python3 (torch) to generate it";
  }
  const GoldenCase g = golden::read_golden_case(path);
  const std::string bn = g.option("bn");
  Mlp mlp(MlpOptions{.sizes = {6, 5, 4, 3},
                     .bn = bn == "before"  ? BnPlacement::kBefore
                           : bn == "after" ? BnPlacement::kAfter
                                           : BnPlacement::kNone});
  Sequential& net = mlp.net();
  for (Parameter& p : net.parameters()) {
    const std::vector<float> v = to_float(g.array("init." + p.name));
    ASSERT_EQ(v.size(), p.value.size()) << p.name;
    std::copy(v.begin(), v.end(), p.value.begin());
  }
  optim::Sgd sgd(net.parameters(), {.lr = g.option_number("lr"),
                                    .momentum = g.option_number("momentum"),
                                    .weight_decay = g.option_number("weight_decay")});
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::constant(g.option_number("lr")));
  const auto steps = static_cast<int>(g.option_number("steps"));
  for (int k = 0; k < steps; ++k) {
    const std::string tag = std::to_string(k);
    const std::vector<float> x = to_float(g.array("x_" + tag));
    const auto& labels_golden = g.array("labels_" + tag).values;
    const std::vector<int32_t> labels(labels_golden.begin(), labels_golden.end());
    const double loss = trainer.train_step(x, labels);
    EXPECT_NEAR(loss, g.array("loss_" + tag).values[0], 2e-5 * (1.0 + loss)) << "step " << k;
  }
  for (const Parameter& p : net.parameters()) {
    bnorm::test::expect_close<float, double>(p.value, g.array("final." + p.name).values, 2e-5, 2e-4,
                                             GetParam() + " final " + p.name);
  }
  for (const Buffer& b : net.buffers()) {
    bnorm::test::expect_close<float, double>(b.value, g.array("final." + b.name).values, 2e-5, 2e-4,
                                             GetParam() + " final " + b.name);
  }
  const std::vector<float> x_eval = to_float(g.array("x_eval"));
  const Tensor& logits = net.forward(x_eval, 8, Phase::kEval);
  bnorm::test::expect_close<float, double>(logits.span(), g.array("logits_eval").values, 5e-5, 2e-4,
                                           GetParam() + " eval logits");
}

INSTANTIATE_TEST_SUITE_P(PyTorch, MlpGolden, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bnorm::nn
