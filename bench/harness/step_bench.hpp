// The harness's SGD-step timer, for the step benchmarks (bench/steps): options, a fixed pool of
// random batches cycled so data loading is not timed, the warm-up, the timed loop and the JSON line
// that bench/scripts/run_steps.py reads. Each benchmark names its network and defaults in a
// StepBenchSpec.
//   <program> [--bn 0|1] [--threads T] [--steps N] [--warmup W] [--batch B] [--max-seconds S]
#pragma once

#include <cstdint>
#include <functional>

#include "nn/sequential.hpp"

namespace bnorm::bench {

struct StepBenchSpec {
  const char* program;  // for the usage line
  const char* model;    // the JSON "model" field, the same as the PyTorch twin's
  int64_t features;     // input values per example; labels are 0..9
  int64_t steps;        // default timed steps
  int64_t warmup;       // default untimed steps first
  int64_t pool;         // random batches, cycled
  int64_t chunk;        // steps between clock checks under --max-seconds
  double lr;            // SGD with momentum 0.9 at this constant rate
  std::function<nn::Sequential(bool batch_norm)> build;  // the network, seeded
};

// Parses argv, trains spec's network for --warmup then --steps SGD steps (or until --max-seconds,
// in whole chunks) and prints one JSON line: impl, model, bn, threads, batch, steps, seconds,
// steps_per_s, last_loss. Returns the process exit code: 0, 1 on a bnorm::Error (printed), 2 on a
// usage error.
int run_step_bench(int argc, char** argv, const StepBenchSpec& spec);

}  // namespace bnorm::bench
