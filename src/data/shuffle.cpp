// The portable shuffle; see shuffle.hpp for why it is not std::shuffle.
#include "data/shuffle.hpp"

#include <utility>

namespace bnorm::data {

uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  // 2^64 mod bound values at the top of the range would make small results more likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound + 1) % bound;
  uint64_t r = rng();
  while (r > limit) r = rng();
  return r % bound;
}

void fisher_yates_shuffle(std::span<int64_t> v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(uniform_below(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace bnorm::data
