// Mergeable moments: Chan's merge against two-pass moments of the concatenation.
#include <gtest/gtest.h>

#include <bnorm/moments.hpp>
#include <random>
#include <vector>

namespace {

TEST(Moments, MergeOfSplitsEqualsMomentsOfWhole) {
  std::mt19937 rng(7);
  std::normal_distribution<double> dist(1e4, 1e-3);  // large mean, tiny spread: cancellation bait
  std::vector<double> v(1001);
  for (double& x : v) x = dist(rng);
  const bnorm::Moments whole = bnorm::moments_of(v);
  for (size_t split : {size_t{1}, size_t{17}, size_t{500}, size_t{1000}}) {
    const auto a = bnorm::moments_of(std::span<const double>(v).first(split));
    const auto b = bnorm::moments_of(std::span<const double>(v).subspan(split));
    const auto m = bnorm::merge(a, b);
    EXPECT_EQ(m.count, whole.count);
    EXPECT_NEAR(m.mean, whole.mean, 1e-12 * std::abs(whole.mean)) << "split " << split;
    EXPECT_NEAR(m.m2, whole.m2, 1e-9 * whole.m2) << "split " << split;
  }
}

TEST(Moments, MergeWithEmptyIsIdentity) {
  const bnorm::Moments a{3, 2.0, 5.0};
  const auto l = bnorm::merge(bnorm::Moments{}, a), r = bnorm::merge(a, bnorm::Moments{});
  EXPECT_EQ(l.count, 3);
  EXPECT_EQ(r.mean, 2.0);
  EXPECT_EQ(r.m2, 5.0);
}

TEST(Moments, BiasedAndUnbiasedVariance) {
  const std::vector<double> v = {1.0, 2.0, 4.0, 7.0};  // mean 3.5, M2 = 6.25+2.25+0.25+12.25 = 21
  const auto m = bnorm::moments_of(v);
  EXPECT_DOUBLE_EQ(m.mean, 3.5);
  EXPECT_DOUBLE_EQ(m.variance(), 21.0 / 4.0);
  EXPECT_DOUBLE_EQ(m.unbiased_variance(), 21.0 / 3.0);
}

}  // namespace
