// The BatchRenorm module and the schedule: the paper's moving-average update of mu and sigma
// (sigma = sqrt(var + eps) for batch and moving statistics alike), inference with the moving
// statistics, the limits per step, and the argument errors.
#include <gtest/gtest.h>

#include <bnorm/batch_renorm.hpp>
#include <cmath>
#include <vector>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

TEST(RenormSchedule, PaperDefaults) {
  const RenormSchedule s;  // 1 -> 3 at 40k, 0 -> 5 at 25k, after 5k steps of warm-up
  for (int64_t step : {0, 4999, 5000}) {
    EXPECT_DOUBLE_EQ(renorm_limits_at(s, step).rmax, 1.0) << step;
    EXPECT_DOUBLE_EQ(renorm_limits_at(s, step).dmax, 0.0) << step;
  }
  EXPECT_DOUBLE_EQ(renorm_limits_at(s, 15000).rmax, 1.0 + 2.0 * 10000 / 35000);
  EXPECT_DOUBLE_EQ(renorm_limits_at(s, 15000).dmax, 2.5);
  EXPECT_DOUBLE_EQ(renorm_limits_at(s, 25000).dmax, 5.0);
  EXPECT_DOUBLE_EQ(renorm_limits_at(s, 40000).rmax, 3.0);
  EXPECT_DOUBLE_EQ(renorm_limits_at(s, 1000000).rmax, 3.0);
  EXPECT_DOUBLE_EQ(renorm_limits_at(s, 1000000).dmax, 5.0);
}

TEST(RenormSchedule, InvalidSchedulesThrow) {
  EXPECT_THROW(renorm_limits_at({}, -1), Error);
  EXPECT_THROW(renorm_limits_at({.warmup_steps = 10, .rmax_final_step = 5}, 0), Error);
  EXPECT_THROW(renorm_limits_at({.rmax_final = 0.5}, 0), Error);
  EXPECT_THROW(renorm_limits_at({.dmax_final = -1.0}, 0), Error);
  EXPECT_NE(error_message_of([] {
              renorm_limits_at({.rmax_final = 0.5}, 0);
            }).find("[renorm_limits_at] expected rmax >= 1"),
            std::string::npos);
}

TEST(BatchRenormModule, MovingStatisticsFollowThePaper) {
  const TensorDesc desc{{6, 3, 2, 2}, Layout::kChannelsFirst};
  BatchRenorm<double> bn({.num_features = 3, .momentum = 0.25}, {.schedule = std::nullopt});
  bn.set_limits({.rmax = 3.0, .dmax = 5.0});
  const std::vector<double> mu0 = {0.5, -1.0, 2.0}, var0 = {0.2, 4.0, 1.0};
  for (size_t i = 0; i < 3; ++i) {
    bn.running_mean()[i] = mu0[i];
    bn.running_var()[i] = var0[i];
  }
  const auto x = random_vector<double>(numel(desc), 3, 1.0, 1.5);
  std::vector<double> y(x.size());
  bn.forward(x, desc, y, Mode::kTrain);
  const Extents e = extents_of(desc, "test");
  for (int64_t c = 0; c < 3; ++c) {
    std::vector<double> v;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) v.push_back(x[offset(e, n, c, s)]);
    const Moments m = moments_of(v);
    const double sigma_b = std::sqrt(m.variance() + 1e-5);
    const double sigma = std::sqrt(var0[c] + 1e-5);
    EXPECT_NEAR(bn.last_r()[c], std::clamp(sigma_b / sigma, 1 / 3.0, 3.0), 1e-12);
    EXPECT_NEAR(bn.last_d()[c], std::clamp((m.mean - mu0[c]) / sigma, -5.0, 5.0), 1e-12);
    EXPECT_NEAR(bn.running_mean()[c], mu0[c] + 0.25 * (m.mean - mu0[c]), 1e-12);
    EXPECT_NEAR(std::sqrt(bn.running_var()[c] + 1e-5), sigma + 0.25 * (sigma_b - sigma), 1e-12);
  }
  EXPECT_EQ(bn.num_batches_tracked(), 1);
  // Mode::kBatchStats renormalizes the same way and updates nothing.
  const std::vector<double> mean_after(bn.running_mean().begin(), bn.running_mean().end());
  bn.forward(x, desc, y, Mode::kBatchStats);
  EXPECT_EQ(std::vector<double>(bn.running_mean().begin(), bn.running_mean().end()), mean_after);
  EXPECT_EQ(bn.num_batches_tracked(), 1);
}

TEST(BatchRenormModule, InferenceUsesTheMovingStatistics) {
  const TensorDesc desc{{5, 2}, Layout::kNC};
  BatchRenorm<float> bn({.num_features = 2, .momentum = 0.01, .layout = Layout::kNC});
  bn.running_mean()[0] = 1.0f;
  bn.running_var()[1] = 3.0f;
  bn.gamma()[0] = 2.0f;
  bn.beta()[1] = -0.5f;
  const auto x = random_vector<float>(10, 8);
  std::vector<float> y(10), dx(10);
  bn.forward(x, desc, y, Mode::kInference);
  for (size_t i = 0; i < 10; ++i) {
    const size_t c = i % 2;
    const double sigma = std::sqrt(static_cast<double>(bn.running_var()[c]) + 1e-5);
    const double want = bn.gamma()[c] * (x[i] - bn.running_mean()[c]) / sigma + bn.beta()[c];
    EXPECT_NEAR(y[i], want, 1e-5) << i;
  }
  const auto dy = random_vector<float>(10, 9);
  bn.backward(x, dy, dx);  // BatchNorm's backward with running statistics: dx = gamma/sigma * dy
  EXPECT_NEAR(dx[0], 2.0 / std::sqrt(1.0 + 1e-5) * dy[0], 1e-5);
}

TEST(BatchRenormModule, ScheduleFollowsTheStepCount) {
  const TensorDesc desc{{4, 2}, Layout::kNC};
  BatchRenorm<float> bn(
      {.num_features = 2, .momentum = 0.01, .layout = Layout::kNC},
      {.schedule = RenormSchedule{.warmup_steps = 1, .rmax_final_step = 3, .dmax_final_step = 2}});
  const auto x = random_vector<float>(8, 2);
  std::vector<float> y(8);
  const double want_rmax[] = {1.0, 1.0, 2.0, 3.0, 3.0};
  const double want_dmax[] = {0.0, 0.0, 5.0, 5.0, 5.0};
  for (int step = 0; step < 5; ++step) {
    EXPECT_DOUBLE_EQ(bn.current_limits().rmax, want_rmax[step]) << step;
    EXPECT_DOUBLE_EQ(bn.current_limits().dmax, want_dmax[step]) << step;
    bn.forward(x, desc, y, Mode::kTrain);
  }
  EXPECT_EQ(bn.num_batches_tracked(), 5);
}

TEST(BatchRenormModule, Errors) {
  auto message = [](auto f) { return error_message_of(f); };
  EXPECT_NE(message([] {
              BatchRenorm<float>({.num_features = 2, .momentum = std::nullopt});
            }).find("[BatchRenorm] expected a momentum"),
            std::string::npos);
  EXPECT_NE(message([] {
              BatchRenorm<float>({.num_features = 2, .track_running_stats = false});
            }).find("[BatchRenorm] expected track_running_stats = true"),
            std::string::npos);
  BatchRenorm<float> bn({.num_features = 2, .layout = Layout::kNC});
  EXPECT_NE(message([&] { bn.set_limits({.rmax = 0.9}); }).find("expected rmax >= 1"),
            std::string::npos);
  std::vector<float> x(2), y(2);
  EXPECT_NE(message([&] {
              bn.forward(x, {{1, 2}, Layout::kNC}, y, Mode::kTrain);
            }).find("expected more than 1 value per channel"),
            std::string::npos);
  EXPECT_NE(message([&] {
              bn.forward(x, {{1, 2}, Layout::kChannelsFirst}, y, Mode::kTrain);
            }).find("[BatchRenorm::forward] expected input in the module's layout kNC"),
            std::string::npos);
  std::vector<float> x4(4), y4(4);
  bn.forward(x4, {{2, 2}, Layout::kNC}, y4, Mode::kTrain);
  std::vector<float> other(4), dx(4);
  EXPECT_NE(message([&] { bn.backward(other, y4, dx); }).find("expected x to be the last"),
            std::string::npos);
  std::vector<double> r(2), d(2), inv(2);
  std::vector<Moments> m(2);
  std::vector<float> mm(2), mv = {1.0f, -1.0f};
  EXPECT_NE(message([&] {
              batch_renorm_forward_train<float>(x4, {{2, 2}, Layout::kNC}, {}, {}, mm, mv, 1e-5, {},
                                                y4, m, r, d);
            }).find("[batch_renorm_forward_train] expected moving_var >= 0"),
            std::string::npos);
}

}  // namespace
}  // namespace bnorm::test
