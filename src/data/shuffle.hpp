// Seeded permutations that are the same on every platform and standard library: std::mt19937_64
// (its output sequence is fixed by the C++ standard) feeding our own Fisher-Yates with unbiased
// rejection sampling. std::shuffle and std::uniform_int_distribution are not used because their
// algorithms are implementation-defined, so the same seed could give another order elsewhere.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace bnorm::data {

// Uniform integer in [0, bound), bound >= 1: draws from rng until the value falls below the
// largest multiple of bound (rejecting the biased tail), then takes it modulo bound.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound);

// Fisher-Yates, from the back: for i = n-1 down to 1, swap v[i] with v[uniform_below(i + 1)].
void fisher_yates_shuffle(std::span<int64_t> v, std::mt19937_64& rng);

}  // namespace bnorm::data
