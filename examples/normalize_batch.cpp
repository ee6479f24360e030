// Normalizes a skewed random batch with bnorm::BatchNorm and prints each channel's statistics
// before and after, then the running statistics and the inference affine map they imply.
#include <bnorm/bnorm.hpp>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  const int64_t n = 8, c = 3, h = 4, w = 4;
  bnorm::BatchNorm<float> bn({.num_features = c});
  const bnorm::TensorDesc desc{{n, c, h, w}, bnorm::Layout::kChannelsFirst};

  std::mt19937 rng(42);
  std::vector<float> x(static_cast<size_t>(n * c * h * w));  // [N, C, H, W]
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t ch = static_cast<int64_t>(i / (h * w)) % c;
    std::normal_distribution<float> dist(10.0f * static_cast<float>(ch) - 5.0f,
                                         1.0f + 2.0f * static_cast<float>(ch));
    x[i] = dist(rng);
  }
  std::vector<float> y(x.size());
  bn.forward(x, desc, y, bnorm::Mode::kTrain);

  std::printf("BatchNorm over N=%lld C=%lld H=%lld W=%lld (training mode)\n", (long long)n,
              (long long)c, (long long)h, (long long)w);
  std::printf("%8s %12s %12s %12s %12s\n", "channel", "mean(x)", "var(x)", "mean(y)", "var(y)");
  const bnorm::Extents e = bnorm::extents_of(desc, "example");
  for (int64_t ch = 0; ch < c; ++ch) {
    std::vector<double> xs, ys;
    for (int64_t s = 0; s < n * h * w; ++s) {
      const auto i = static_cast<size_t>(((s / (h * w)) * c + ch) * h * w + s % (h * w));
      xs.push_back(x[i]);
      ys.push_back(y[i]);
    }
    const bnorm::Moments mx = bnorm::moments_of(xs), my = bnorm::moments_of(ys);
    std::printf("%8lld %12.5f %12.5f %12.5f %12.5f\n", (long long)ch, mx.mean, mx.variance(),
                my.mean, my.variance());
  }
  std::printf("values per channel M = %lld\n", (long long)e.per_channel());

  const bnorm::AffineMap map = bn.inference_affine();
  std::printf(
      "\nafter one step (momentum 0.1): running statistics and inference map y = scale*x + "
      "shift\n");
  std::printf("%8s %14s %14s %12s %12s\n", "channel", "running_mean", "running_var", "scale",
              "shift");
  for (int64_t ch = 0; ch < c; ++ch) {
    const auto i = static_cast<size_t>(ch);
    std::printf("%8lld %14.5f %14.5f %12.5f %12.5f\n", (long long)ch, bn.running_mean()[i],
                bn.running_var()[i], map.scale[i], map.shift[i]);
  }
  return 0;
}
