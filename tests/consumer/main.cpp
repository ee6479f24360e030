// The consumer's program: normalizes a batch through bnorm and checks that every channel comes
// out with mean ~0 and variance ~1. Exit 0 on success, 1 with a message otherwise.
#include <bnorm/bnorm.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  const int64_t n = 4, c = 2, hw = 3;
  bnorm::BatchNorm<float> bn({.num_features = c});
  std::vector<float> x(static_cast<size_t>(n * c * hw));  // [N, C, H*W]
  for (size_t i = 0; i < x.size(); ++i) x[i] = 5.0f + 3.0f * static_cast<float>((i * 7) % 11);
  std::vector<float> y(x.size());
  bn.forward(x, {{n, c, hw}, bnorm::Layout::kChannelsFirst}, y, bnorm::Mode::kTrain);

  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0.0, sum_sq = 0.0;
    for (int64_t s = 0; s < n; ++s) {
      for (int64_t p = 0; p < hw; ++p) {
        const double v = y[static_cast<size_t>((s * c + ch) * hw + p)];
        sum += v;
        sum_sq += v * v;
      }
    }
    const double mean = sum / static_cast<double>(n * hw);
    const double var = sum_sq / static_cast<double>(n * hw) - mean * mean;
    if (!(std::abs(mean) < 1e-5) || !(std::abs(var - 1.0) < 1e-3)) {
      std::printf("consumer: channel %lld has mean %g, variance %g; expected ~0 and ~1\n",
                  static_cast<long long>(ch), mean, var);
      return 1;
    }
  }
  std::printf("consumer: bnorm normalized a %lldx%lldx%lld batch; channel means ~0\n",
              static_cast<long long>(n), static_cast<long long>(c), static_cast<long long>(hw));
  return 0;
}
