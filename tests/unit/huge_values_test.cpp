// Data spread near the largest finite float (±3e38): the optimized kernels subtract in float and
// would overflow, so the training forward and the backward must give the float64 reference's
// finite results there, under kAuto and kOptimized alike, in every layout.
#include <gtest/gtest.h>

#include <bnorm/bnorm.hpp>
#include <cmath>
#include <random>
#include <vector>

namespace bnorm {
namespace {

struct StepResult {
  std::vector<float> y, dx, dgamma, dbeta;
  std::vector<Moments> moments;
};

StepResult train_step(const std::vector<float>& x, const std::vector<float>& dy,
                      const TensorDesc& desc, int64_t c, Backend backend) {
  const std::vector<float> gamma(static_cast<size_t>(c), 1.5f), beta(static_cast<size_t>(c), 0.25f);
  StepResult r{std::vector<float>(x.size()), std::vector<float>(x.size()),
               std::vector<float>(static_cast<size_t>(c)),
               std::vector<float>(static_cast<size_t>(c)),
               std::vector<Moments>(static_cast<size_t>(c))};
  std::vector<double> invstd(static_cast<size_t>(c)), mean(static_cast<size_t>(c));
  batch_norm_forward_train<float>(x, desc, gamma, beta, 1e-5, r.y, r.moments, backend,
                                  Activation::kNone, invstd);
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = r.moments[i].mean;
  batch_norm_backward<float>(x, dy, desc, mean, invstd, gamma, StatsGradient::kThroughBatchStats,
                             r.dx, r.dgamma, r.dbeta, backend);
  return r;
}

TEST(HugeValues, TrainingNearFloatMaxMatchesTheReference) {
  for (const TensorDesc& desc :
       {TensorDesc{{64, 16}, Layout::kNC}, TensorDesc{{8, 16, 5, 7}, Layout::kChannelsFirst},
        TensorDesc{{8, 16, 5, 7}, Layout::kChannelsLast}}) {
    const int64_t c = desc.dims[1];  // dims are logical (N, C, ...) in every layout
    size_t numel = 1;
    for (int64_t d : desc.dims) numel *= static_cast<size_t>(d);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(numel), dy(numel);
    for (float& v : x) v = 3e38f * u(rng);
    for (float& v : dy) v = u(rng);
    // The largest magnitudes of both signs, in the first elements: the optimized kernels' pilot.
    const float big = 3.4e38f;
    for (size_t i = 0; i < 2 * static_cast<size_t>(c) && i < numel; ++i) x[i] = i % 2 ? -big : big;
    const StepResult ref = train_step(x, dy, desc, c, Backend::kReference);
    for (float v : ref.y) ASSERT_TRUE(std::isfinite(v));
    for (Backend backend : {Backend::kAuto, Backend::kOptimized}) {
      const StepResult got = train_step(x, dy, desc, c, backend);
      EXPECT_EQ(got.y, ref.y) << to_string(desc.layout);
      EXPECT_EQ(got.dx, ref.dx) << to_string(desc.layout);
      EXPECT_EQ(got.dgamma, ref.dgamma) << to_string(desc.layout);
      EXPECT_EQ(got.dbeta, ref.dbeta) << to_string(desc.layout);
      for (size_t i = 0; i < got.moments.size(); ++i) {
        EXPECT_EQ(got.moments[i].mean, ref.moments[i].mean);
        EXPECT_EQ(got.moments[i].m2, ref.moments[i].m2);
      }
    }
  }
}

}  // namespace
}  // namespace bnorm
