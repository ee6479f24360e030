// Times SGD steps of the paper suite's small CNN (E3: conv3x3(16)-pool-conv3x3(32)-pool-FC(100)-
// FC(10) on 28x28 inputs, ReLU, batch 60, SGD with momentum), with or without BN before each ReLU,
// at a given thread count. Prints one JSON line; scripts/bench_cnn runs it next to
// bench/cnn/cnn_steps.py (the same network in PyTorch).
//   bnorm_cnn_bench [--bn 0|1] [--threads T] [--steps N] [--warmup W] [--batch B]
//                   [--max-seconds S]
// Inputs are a fixed pool of random batches, cycled, so data loading is not timed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bnorm/error.hpp"
#include "nn/conv/cnn.hpp"
#include "nn/threads.hpp"
#include "optim/classifier_trainer.hpp"

namespace {

struct Args {
  bool bn = false;
  int threads = 1;
  int64_t steps = 500, warmup = 20, batch = 60;
  double max_seconds = 0.0;  // > 0: stop timing after this long (whole chunks of 5 steps)
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc % 2 == 0) {
    std::fprintf(stderr, "usage: bnorm_cnn_bench [--bn 0|1] [--threads T] [--steps N] ...\n");
    std::exit(2);
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (key == "--bn") {
      a.bn = v != 0;
    } else if (key == "--threads") {
      a.threads = static_cast<int>(v);
    } else if (key == "--steps") {
      a.steps = v;
    } else if (key == "--warmup") {
      a.warmup = v;
    } else if (key == "--max-seconds") {
      a.max_seconds = std::atof(argv[i + 1]);
    } else if (key == "--batch") {
      a.batch = v;
    } else {
      std::fprintf(stderr, "error: unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace bnorm;
  const Args args = parse(argc, argv);
  nn::set_num_threads(args.threads);
  constexpr int64_t kFeatures = 784, kPool = 10;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<int32_t> label(0, 9);
  std::vector<float> x(static_cast<size_t>(kPool * args.batch * kFeatures));
  std::vector<int32_t> y(static_cast<size_t>(kPool * args.batch));
  for (float& v : x) v = pixel(rng);
  for (int32_t& v : y) v = label(rng);

  nn::Sequential net = nn::build_cnn({.batch_norm = args.bn, .seed = 1});
  optim::Sgd sgd(net.parameters(), {.lr = 0.01, .momentum = 0.9});
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::constant(0.01));
  double loss = 0.0;
  int64_t step = 0;
  auto run = [&](int64_t steps) {
    for (int64_t end = step + steps; step < end; ++step) {
      const auto b = static_cast<size_t>(step % kPool);
      const auto rows = static_cast<size_t>(args.batch);
      loss = trainer.train_step(std::span(x).subspan(b * rows * kFeatures, rows * kFeatures),
                                std::span(y).subspan(b * rows, rows));
    }
  };
  run(args.warmup);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  int64_t timed = 0;
  while (timed < args.steps && (args.max_seconds <= 0.0 || elapsed() < args.max_seconds)) {
    const int64_t chunk = std::min<int64_t>(5, args.steps - timed);
    run(chunk);
    timed += chunk;
  }
  const double seconds = elapsed();
  std::printf(
      "{\"impl\": \"bnorm\", \"model\": \"cnn28-c16-c32-fc100-relu\", \"bn\": %s, \"threads\": %d, "
      "\"batch\": %lld, \"steps\": %lld, \"seconds\": %.6f, \"steps_per_s\": %.2f, "
      "\"last_loss\": %.6f}\n",
      args.bn ? "true" : "false", args.threads, static_cast<long long>(args.batch),
      static_cast<long long>(timed), seconds, static_cast<double>(timed) / seconds, loss);
  return 0;
} catch (const bnorm::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
