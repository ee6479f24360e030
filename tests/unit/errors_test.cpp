// Every input a user can get wrong is refused with a message naming the problem.
#include <gtest/gtest.h>

#include <bnorm/bnorm.hpp>
#include <cmath>
#include <functional>
#include <limits>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

void expect_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected bnorm::Error containing \"" << needle << "\", got no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message \"" << e.what() << "\" lacks \"" << needle << "\"";
  }
}

TEST(Errors, OptionsAreValidated) {
  expect_error([] { BatchNorm<float>({.num_features = 0}); }, "expected num_features > 0, got 0");
  expect_error([] { BatchNorm<float>({.num_features = 3, .eps = 0.0}); }, "expected eps > 0");
  expect_error([] { BatchNorm<float>({.num_features = 3, .eps = -1e-5}); }, "expected eps > 0");
  expect_error([] { BatchNorm<float>({.num_features = 3, .momentum = 1.5}); },
               "expected momentum in [0, 1]");
  expect_error([] { BatchNorm<float>({.num_features = 3, .momentum = -0.1}); },
               "expected momentum in [0, 1]");
}

TEST(Errors, OneValuePerChannelCannotBeTrainedOn) {
  BatchNorm<float> bn({.num_features = 3, .layout = Layout::kNC});
  std::vector<float> x(3), y(3);
  expect_error(
      [&] {
        bn.forward(x, {{1, 3}, Layout::kNC}, y, Mode::kTrain);
      },
      "expected more than 1 value per channel when training");
  expect_error(
      [&] {
        bn.forward(x, {{1, 3}, Layout::kNC}, y, Mode::kBatchStats);
      },
      "expected more than 1 value per channel when training");
  bn.forward(x, {{1, 3}, Layout::kNC}, y, Mode::kInference);  // fine: running statistics
}

TEST(Errors, ShapeAndLayoutMustMatchTheModule) {
  BatchNorm<float> bn({.num_features = 3});
  std::vector<float> x(2 * 4 * 5), y(x.size());
  expect_error(
      [&] {
        bn.forward(x, {{2, 4, 5}, Layout::kChannelsFirst}, y, Mode::kTrain);
      },
      "expected 3 channels (num_features) in dims[1], got 4");
  expect_error(
      [&] {
        bn.forward(x, {{2, 4, 5}, Layout::kChannelsLast}, y, Mode::kTrain);
      },
      "expected input in the module's layout kChannelsFirst, got kChannelsLast");
  BatchNorm<float> nc({.num_features = 4, .layout = Layout::kNC});
  expect_error(
      [&] {
        nc.forward(x, {{2, 4, 5}, Layout::kNC}, y, Mode::kTrain);
      },
      "expected 2 dims [N, C] for Layout::kNC, got 3 dims");
  std::vector<float> short_y(7);
  expect_error(
      [&] {
        nc.forward(x, {{10, 4}, Layout::kNC}, short_y, Mode::kTrain);
      },
      "expected y to hold 40 elements, got 7");
}

TEST(Errors, EmptyTensorsHaveNoStatistics) {
  BatchNorm<float> bn({.num_features = 3});
  std::vector<float> none;
  expect_error(
      [&] {
        bn.forward(none, {{0, 3, 4}, Layout::kChannelsFirst}, none, Mode::kTrain);
      },
      "expected every dim > 0, got dims [0, 3, 4]");
  expect_error(
      [&] {
        bn.forward(none, {{3}, Layout::kChannelsFirst}, none, Mode::kTrain);
      },
      "expected at least 2 dims");
}

TEST(Errors, ModeNeedsRunningStatisticsWhenItUsesThem) {
  BatchNorm<float> bn({.num_features = 2, .track_running_stats = false, .layout = Layout::kNC});
  std::vector<float> x = {1, 2, 3, 4}, y(4);
  expect_error(
      [&] {
        bn.forward(x, {{2, 2}, Layout::kNC}, y, Mode::kInference);
      },
      "track_running_stats = false; use Mode::kBatchStats");
  expect_error(
      [&] {
        bn.forward(x, {{2, 2}, Layout::kNC}, y, Mode::kTrain);
      },
      "track_running_stats = false; use Mode::kBatchStats");
  bn.forward(x, {{2, 2}, Layout::kNC}, y, Mode::kBatchStats);
}

TEST(Errors, BackwardNeedsAForward) {
  BatchNorm<float> bn({.num_features = 2});
  std::vector<float> x(4), dy(4), dx(4);
  expect_error([&] { bn.backward(x, dy, dx); }, "expected a forward() before backward()");
}

TEST(Errors, FunctionalApiChecksEveryBuffer) {
  const TensorDesc desc{{4, 2}, Layout::kNC};
  std::vector<float> x(8), y(8), g(3), mean(2), var = {1.0f, -1.0f};
  std::vector<Moments> m(2);
  expect_error([&] { batch_norm_forward_train<float>(x, desc, g, {}, 1e-5, y, m); },
               "expected gamma to be empty or hold 2 elements (one per channel), got 3");
  expect_error(
      [&] { batch_norm_forward_train<float>(x, desc, {}, {}, 1e-5, std::span(x).subspan(2), m); },
      "expected y to hold 8 elements, got 6");
  expect_error([&] { batch_norm_forward_train<float>(x, desc, {}, {}, 1e-5, std::span(x), m); },
               "expected y not to overlap x");
  std::vector<double> invstd(3);
  expect_error(
      [&] {
        batch_norm_forward_train<float>(x, desc, {}, {}, 1e-5, y, m, Backend::kAuto,
                                        Activation::kNone, invstd);
      },
      "expected save_invstd to be empty or hold 2 elements (one per channel), got 3");
  expect_error([&] { batch_norm_forward_infer<float>(x, desc, mean, var, {}, {}, 1e-5, y); },
               "expected var >= 0, got var[1] = -1");
  expect_error([&] { batch_norm_forward_infer<float>(x, desc, mean, mean, {}, {}, 0.0, y); },
               "expected eps > 0 and at least");
}

TEST(Errors, RunningStatsUpdateChecksItsInputs) {
  std::vector<Moments> batch = {{4, 1.0, 2.0}, {4, 0.0, 1.0}};
  std::vector<float> mean(2), var(2), three(3);
  expect_error([&] { update_running_stats<float>(batch, 0.1, three, var); },
               "[update_running_stats] expected running_mean to hold 2 elements, got 3");
  expect_error([&] { update_running_stats<float>(batch, 0.1, mean, three); },
               "expected running_var to hold 2 elements, got 3");
  expect_error([&] { update_running_stats<float>(batch, 1.5, mean, var); },
               "expected 0 <= factor <= 1 (the momentum), got 1.5");
  expect_error([&] { update_running_stats<float>({}, 0.1, mean, var); },
               "expected at least one channel");
  batch[1].count = 1;
  expect_error([&] { update_running_stats<float>(batch, 0.1, mean, var); },
               "expected every batch count > 1 (an unbiased variance), got 1 for channel 1");
  EXPECT_EQ(mean, std::vector<float>(2)) << "a failed update must leave the statistics alone";
}

// An eps below the data type's smallest normal number underflows in float and makes 1/sqrt(var +
// eps) infinite on a constant channel: refused, for the module and the functional API.
TEST(Errors, EpsMustBeRepresentableInTheDataType) {
  expect_error([] { BatchNorm<float>({.num_features = 3, .eps = 1e-300}); },
               "expected eps > 0 and at least 1.17549e-38");
  expect_error([] { BatchNorm<float>({.num_features = 3, .eps = 1e300}); }, "expected eps > 0");
  BatchNorm<double>({.num_features = 3, .eps = 1e-300});  // representable in double
  const TensorDesc desc{{2, 2}, Layout::kNC};
  std::vector<float> x(4, 1.0f), y(4);
  std::vector<Moments> m(2);
  expect_error([&] { batch_norm_forward_train<float>(x, desc, {}, {}, 1e-300, y, m); },
               "expected eps > 0 and at least");
  batch_norm_forward_train<float>(x, desc, {}, {}, 1e-30, y, m);  // constant channel stays finite
  for (float v : y) EXPECT_TRUE(std::isfinite(v));
}

TEST(Errors, MergeRejectsNegativeAndOverflowingCounts) {
  const Moments one{.count = 1, .mean = 0.0, .m2 = 0.0};
  expect_error([&] { merge({.count = -1}, one); }, "[merge] expected counts >= 0, got -1 and 1");
  expect_error([&] { merge(one, {.count = -5}); }, "expected counts >= 0");
  const Moments huge{.count = std::numeric_limits<int64_t>::max(), .mean = 0.0, .m2 = 0.0};
  expect_error([&] { merge(huge, one); }, "expected a total count that fits in int64");
  EXPECT_EQ(merge(huge, {}).count, huge.count);
}

// backward() must be given the forward's own input: a copy (another buffer, same values) or a
// different size is refused, since the saved statistics belong to that forward.
TEST(Errors, BackwardNeedsTheForwardsInput) {
  BatchNorm<float> bn({.num_features = 2, .layout = Layout::kNC});
  std::vector<float> x = {1, 2, 3, 5}, y(4), dy(4, 1.0f), dx(4);
  bn.forward(x, {{2, 2}, Layout::kNC}, y, Mode::kTrain);
  const std::vector<float> copy = x;
  expect_error([&] { bn.backward(copy, dy, dx); },
               "expected x to be the last forward()'s input (the same buffer of 4 elements)");
  expect_error([&] { bn.backward(std::span<const float>(x).first(2), dy, dx); },
               "call forward() on this x first");
  bn.backward(x, dy, dx);
}

// The documented aliasing rule: y may be x itself in the running-statistics modes (exactly the
// out-of-place result), never in the batch modes.
TEST(Errors, InPlaceOnlyForRunningStatisticsModes) {
  const TensorDesc desc{{3, 2}, Layout::kNC};
  BatchNorm<float> bn({.num_features = 2, .layout = Layout::kNC});
  std::vector<float> x = {1, -2, 3, 5, 0.5f, 7}, y(6);
  bn.forward(x, desc, y, Mode::kTrain);  // running statistics away from (0, 1)
  for (Mode mode : {Mode::kInference, Mode::kFrozen}) {
    std::vector<float> out(6), in_place = x;
    bn.forward(x, desc, out, mode);
    bn.forward(in_place, desc, in_place, mode);
    EXPECT_EQ(in_place, out);
  }
  for (Mode mode : {Mode::kTrain, Mode::kBatchStats}) {
    std::vector<float> in_place = x;
    expect_error([&] { bn.forward(in_place, desc, in_place, mode); },
                 "expected y not to overlap x");
  }
}

}  // namespace
}  // namespace bnorm::test
