// The harness's clock: a steady-clock stopwatch, one timed call (optionally from a cold cache),
// and a time-boxed series of timed calls. Every timing in bench/ goes through these.
#pragma once

#include <chrono>
#include <vector>

#include "cold_cache.hpp"

namespace bnorm::bench {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  double us() const { return seconds() * 1e6; }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Microseconds of one call of fn. With a flusher, the caches are flushed first (not timed).
template <typename Fn>
double time_call_us(Fn&& fn, CacheFlusher* flusher = nullptr) {
  if (flusher != nullptr) flusher->flush();
  const Stopwatch watch;
  fn();
  return watch.us();
}

// Times fn (a callable returning one call's microseconds) at least min_reps times and then until
// `seconds` have passed, capped at max_reps.
template <typename Fn>
std::vector<double> sample_us(int min_reps, double seconds, Fn&& time_one, int max_reps = 100000) {
  std::vector<double> samples;
  const Stopwatch watch;
  while (static_cast<int>(samples.size()) < max_reps &&
         (static_cast<int>(samples.size()) < min_reps || watch.seconds() < seconds)) {
    samples.push_back(time_one());
  }
  return samples;
}

}  // namespace bnorm::bench
