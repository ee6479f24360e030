// The initializers of init.hpp.
#include "nn/init.hpp"

#include <cmath>

#include "check.hpp"
#include "nn/random.hpp"

namespace bnorm::nn {

void init_weight(std::span<float> weight, int64_t fan_in, int64_t fan_out, const InitOptions& init,
                 uint64_t seed) {
  constexpr std::string_view op = "init_weight";
  detail::check(
      fan_in > 0 && fan_out > 0 && static_cast<int64_t>(weight.size()) == fan_in * fan_out, op,
      "expected fan_out * fan_in = ", fan_out, " * ", fan_in, " weights, got ", weight.size());
  Rng rng(seed);
  const auto in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
  switch (init.scheme) {
    case InitScheme::kXavierUniform: {
      const double a = std::sqrt(6.0 / (in + out));
      for (float& w : weight) w = static_cast<float>((2.0 * rng.uniform() - 1.0) * a);
      return;
    }
    case InitScheme::kGaussian:
      detail::check(init.sigma > 0.0, op, "expected sigma > 0 for the Gaussian initializer, got ",
                    init.sigma);
      for (float& w : weight) w = static_cast<float>(init.sigma * rng.normal());
      return;
    case InitScheme::kXavierNormal: {
      const double sigma = std::sqrt(2.0 / (in + out));
      for (float& w : weight) w = static_cast<float>(sigma * rng.normal());
      return;
    }
    case InitScheme::kHe: {
      const double sigma = std::sqrt(2.0 / in);
      for (float& w : weight) w = static_cast<float>(sigma * rng.normal());
      return;
    }
  }
}

}  // namespace bnorm::nn
