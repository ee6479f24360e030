// Times SGD steps of the paper's MNIST network (784 -> 100 -> 100 -> 100 -> 10, sigmoid, batch 60,
// SGD with momentum) with or without BN before each sigmoid, at a given thread count. Prints one
// JSON line; bench/scripts/run_steps.py runs it next to bench/torch/mlp_steps.py (the same in
// PyTorch).
//   bnorm_mlp_bench [--bn 0|1] [--threads T] [--steps N] [--warmup W] [--batch B]
//                   [--max-seconds S]
// The harness (random batches, timing, output) is bench/harness/step_bench.hpp.
#include <utility>

#include "nn/mlp.hpp"
#include "step_bench.hpp"

int main(int argc, char** argv) {
  using namespace bnorm;
  return bench::run_step_bench(
      argc, argv,
      {.program = "bnorm_mlp_bench",
       .model = "mlp784-100x3-10-sigmoid",
       .features = 784,
       .steps = 2000,
       .warmup = 200,
       .pool = 20,
       .chunk = 10,
       .lr = 0.05,
       .build = [](bool batch_norm) {
         nn::Mlp mlp = nn::build_mlp({784, 100, 100, 100, 10}, nn::Nonlinearity::kSigmoid,
                                     batch_norm ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone,
                                     1, {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1});
         return std::move(mlp.net());
       }});
}
