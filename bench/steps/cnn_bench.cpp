// Times SGD steps of the paper suite's small CNN (E3: conv3x3(16)-pool-conv3x3(32)-pool-FC(100)-
// FC(10) on 28x28 inputs, ReLU, batch 60, SGD with momentum), with or without BN before each ReLU,
// at a given thread count. Prints one JSON line; bench/scripts/run_steps.py runs it next to
// bench/torch/cnn_steps.py (the same network in PyTorch).
//   bnorm_cnn_bench [--bn 0|1] [--threads T] [--steps N] [--warmup W] [--batch B]
//                   [--max-seconds S]
// The harness (random batches, timing, output) is bench/harness/step_bench.hpp.
#include "nn/conv/cnn.hpp"
#include "step_bench.hpp"

int main(int argc, char** argv) {
  using namespace bnorm;
  return bench::run_step_bench(argc, argv,
                               {.program = "bnorm_cnn_bench",
                                .model = "cnn28-c16-c32-fc100-relu",
                                .features = 784,
                                .steps = 500,
                                .warmup = 20,
                                .pool = 10,
                                .chunk = 5,
                                .lr = 0.01,
                                .build = [](bool batch_norm) {
                                  return nn::build_cnn({.batch_norm = batch_norm, .seed = 1});
                                }});
}
