// Ghost BatchNorm against plain BatchNorm run on each ghost batch (a slice of the batch along N):
// outputs, gradients, running statistics updated once per ghost batch, the smaller last ghost
// batch, inference, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <bnorm/batch_norm.hpp>
#include <bnorm/ghost_batch_norm.hpp>
#include <optional>
#include <vector>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

struct GhostCase {
  TensorDesc desc;
  int64_t ghost;
  std::optional<double> momentum;
};

// Runs GhostBatchNorm (Mode::kTrain, then backward) and one BatchNorm over the slices in order,
// and compares y, dx, the summed parameter gradients and the running statistics.
template <typename T>
void expect_ghost_equals_sliced_batch_norm(const GhostCase& gc, Activation act, double tol) {
  const TensorDesc& desc = gc.desc;
  const int64_t c = desc.dims[1];
  const BatchNormOptions o{
      .num_features = c, .momentum = gc.momentum, .layout = desc.layout, .activation = act};
  GhostBatchNorm<T> ghost(o, gc.ghost);
  BatchNorm<T> plain(o);
  const auto g = random_vector<T>(static_cast<size_t>(c), 11, 1.0, 0.5);
  const auto b = random_vector<T>(static_cast<size_t>(c), 12);
  std::copy(g.begin(), g.end(), ghost.gamma().begin());
  std::copy(b.begin(), b.end(), ghost.beta().begin());
  std::copy(g.begin(), g.end(), plain.gamma().begin());
  std::copy(b.begin(), b.end(), plain.beta().begin());
  const auto x = random_vector<T>(numel(desc), 13, 2.0, 3.0);
  const auto dy = random_vector<T>(x.size(), 14);
  std::vector<T> y(x.size()), dx(x.size());
  ghost.forward(x, desc, y, Mode::kTrain);
  ghost.backward(x, dy, dx);

  std::vector<T> y_ref(x.size()), dx_ref(x.size());
  const size_t row = x.size() / static_cast<size_t>(desc.dims[0]);
  int64_t slices = 0;
  for (int64_t n0 = 0; n0 < desc.dims[0]; n0 += gc.ghost, ++slices) {
    TensorDesc part = desc;
    part.dims[0] = std::min(gc.ghost, desc.dims[0] - n0);
    const size_t begin = static_cast<size_t>(n0) * row,
                 size = static_cast<size_t>(part.dims[0]) * row;
    const std::span<const T> xs = std::span<const T>(x).subspan(begin, size);
    plain.forward(xs, part, std::span<T>(y_ref).subspan(begin, size), Mode::kTrain);
    plain.backward(xs, std::span<const T>(dy).subspan(begin, size),
                   std::span<T>(dx_ref).subspan(begin, size));
  }
  EXPECT_EQ(ghost.num_batches_tracked(), slices);
  EXPECT_EQ(plain.num_batches_tracked(), slices);
  expect_close<T, T>(y, y_ref, tol, tol, "y");
  expect_close<T, T>(dx, dx_ref, tol, tol, "dx");
  expect_close<T, T>(ghost.grad_gamma(), plain.grad_gamma(), tol, tol, "grad_gamma");
  expect_close<T, T>(ghost.grad_beta(), plain.grad_beta(), tol, tol, "grad_beta");
  expect_close<T, T>(ghost.running_mean(), plain.running_mean(), tol, tol, "running_mean");
  expect_close<T, T>(ghost.running_var(), plain.running_var(), tol, tol, "running_var");
  // Inference is BatchNorm's with the same running statistics.
  ghost.forward(x, desc, y, Mode::kInference);
  plain.forward(x, desc, y_ref, Mode::kInference);
  expect_close<T, T>(y, y_ref, tol, tol, "inference y");
}

const GhostCase kCases[] = {
    {{{12, 3}, Layout::kNC}, 4, 0.1},                  // divides N
    {{{15, 5}, Layout::kNC}, 4, std::nullopt},         // last of 3 samples, cumulative average
    {{{14, 5}, Layout::kNC}, 4, 0.1},                  // last ghost batch of 2 samples
    {{{7, 2, 3, 5}, Layout::kChannelsFirst}, 3, 0.1},  // last of 1 sample, spatial 15
    {{{9, 4, 2, 3}, Layout::kChannelsLast}, 2, 0.3},   // last of 1 sample, spatial 6
    {{{6, 3, 2, 2}, Layout::kChannelsLast}, 10, 0.1},  // one ghost batch: BatchNorm
};

TEST(GhostBatchNorm, EqualsBatchNormOnEachSliceFloat64) {
  for (const GhostCase& gc : kCases) {
    SCOPED_TRACE(describe(gc.desc) + " ghost " + std::to_string(gc.ghost));
    expect_ghost_equals_sliced_batch_norm<double>(gc, Activation::kNone, 1e-12);
    expect_ghost_equals_sliced_batch_norm<double>(gc, Activation::kRelu, 1e-12);
  }
}

TEST(GhostBatchNorm, EqualsBatchNormOnEachSliceFloat32) {
  for (const GhostCase& gc : kCases) {
    SCOPED_TRACE(describe(gc.desc) + " ghost " + std::to_string(gc.ghost));
    expect_ghost_equals_sliced_batch_norm<float>(gc, Activation::kNone, 1e-5);
  }
}

TEST(GhostBatchNorm, GhostStatisticsDifferFromTheWholeBatch) {
  // Guards the comparison above against a ghost size that is silently ignored.
  const TensorDesc desc{{8, 2}, Layout::kNC};
  GhostBatchNorm<double> ghost({.num_features = 2, .layout = Layout::kNC}, 4);
  BatchNorm<double> whole({.num_features = 2, .layout = Layout::kNC});
  const auto x = random_vector<double>(16, 5);
  std::vector<double> a(16), b(16);
  ghost.forward(x, desc, a, Mode::kTrain);
  whole.forward(x, desc, b, Mode::kTrain);
  EXPECT_GT(std::abs(a[0] - b[0]), 1e-3);
  EXPECT_EQ(ghost.ghost_moments().size(), 4u);
}

TEST(GhostBatchNorm, Errors) {
  GhostBatchNorm<float> bn({.num_features = 5, .layout = Layout::kNC}, 4);
  std::vector<float> x(65), y(65);
  const std::string m = error_message_of([&] {
    bn.forward(x, {{13, 5}, Layout::kNC}, y, Mode::kTrain);
  });
  EXPECT_NE(m.find("[ghost_batch_norm_forward_train] expected every ghost batch to hold more than "
                   "1 value per channel, got a last ghost batch of 1 sample(s) x spatial 1"),
            std::string::npos)
      << m;
  EXPECT_NE(error_message_of([] {
              GhostBatchNorm<float>({.num_features = 2}, 0);
            }).find("[GhostBatchNorm] expected ghost_batch_size > 0, got 0"),
            std::string::npos);
  std::vector<Moments> moments(2);
  std::vector<float> x8(8), y8(8);
  EXPECT_NE(error_message_of([&] {
              ghost_batch_norm_forward_train<float>(x8, {{4, 2}, Layout::kNC}, 2, {}, {}, 1e-5, y8,
                                                    moments);
            }).find("expected ghost_moments (ghost batches x C) to hold 4 elements, got 2"),
            std::string::npos);
  EXPECT_EQ(ghost_batch_count(13, 4), 4);
  EXPECT_EQ(ghost_batch_count(12, 4), 3);
}

}  // namespace
}  // namespace bnorm::test
