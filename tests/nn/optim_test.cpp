// SGD against a hand computation of PyTorch's update, the learning-rate schedules against their
// formulas, and argument checks.
#include <gtest/gtest.h>

#include "bnorm/error.hpp"
#include "optim/lr_schedule.hpp"
#include "optim/sgd.hpp"

namespace bnorm::optim {
namespace {

TEST(Sgd, TwoStepsWithMomentumAndWeightDecayMatchHandComputation) {
  std::vector<float> p = {1.0f, -2.0f}, g = {0.5f, 0.25f};
  Sgd sgd({{.name = "w", .value = p, .grad = g}},
          {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  // Step 1: g' = g + 0.01 p = {0.51, 0.23}; v = g'; p -= 0.1 v -> {0.949, -2.023}.
  sgd.step();
  EXPECT_NEAR(p[0], 0.949, 1e-6);
  EXPECT_NEAR(p[1], -2.023, 1e-6);
  // Step 2 with new gradients: g' = g + 0.01 p; v = 0.9 v + g'; p -= 0.1 v.
  g = {-1.0f, 0.0f};
  const double g0 = -1.0 + 0.01 * 0.949, g1 = 0.0 + 0.01 * -2.023;
  const double v0 = 0.9 * 0.51 + g0, v1 = 0.9 * 0.23 + g1;
  sgd.step();
  EXPECT_NEAR(p[0], 0.949 - 0.1 * v0, 1e-6);
  EXPECT_NEAR(p[1], -2.023 - 0.1 * v1, 1e-6);
  // The learning rate scales the velocity (PyTorch), not only the new gradient.
  sgd.set_lr(0.0);
  const float before = p[0];
  sgd.step();
  EXPECT_EQ(p[0], before);
  sgd.zero_grad();
  EXPECT_EQ(g[0], 0.0f);
}

TEST(Sgd, PlainSgdWithoutMomentum) {
  std::vector<float> p = {3.0f}, g = {2.0f};
  Sgd sgd({{.name = "w", .value = p, .grad = g}}, {.lr = 0.5});
  sgd.step();
  sgd.step();
  EXPECT_FLOAT_EQ(p[0], 1.0f);  // no momentum: 3 - 0.5*2 - 0.5*2
}

TEST(Sgd, RejectsBadOptions) {
  std::vector<float> p(2), g(3);
  EXPECT_THROW(Sgd({{.name = "w", .value = p, .grad = g}}, {}), Error);
  EXPECT_THROW(Sgd({}, {.momentum = 1.0}), Error);
  EXPECT_THROW(Sgd({}, {.lr = -1.0}), Error);
  EXPECT_THROW(Sgd({}, {.weight_decay = -1.0}), Error);
}

TEST(LrSchedule, FormulasOfTheThreeKinds) {
  const LrSchedule c = LrSchedule::constant(0.3);
  EXPECT_DOUBLE_EQ(c.lr_at(0), 0.3);
  EXPECT_DOUBLE_EQ(c.lr_at(1000), 0.3);
  const LrSchedule s = LrSchedule::step(1.0, 10, 0.5);
  EXPECT_DOUBLE_EQ(s.lr_at(9), 1.0);
  EXPECT_DOUBLE_EQ(s.lr_at(10), 0.5);
  EXPECT_DOUBLE_EQ(s.lr_at(25), 0.25);
  const LrSchedule e = LrSchedule::exponential(2.0, 0.9);
  EXPECT_DOUBLE_EQ(e.lr_at(0), 2.0);
  EXPECT_NEAR(e.lr_at(3), 2.0 * 0.729, 1e-15);
  EXPECT_THROW(LrSchedule::step(1.0, 0, 0.5), Error);
  EXPECT_THROW(LrSchedule::exponential(1.0, 1.5), Error);
  EXPECT_THROW(e.lr_at(-1), Error);
}

}  // namespace
}  // namespace bnorm::optim
