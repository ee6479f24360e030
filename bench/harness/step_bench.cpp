// The SGD-step timer of the benchmark harness (see step_bench.hpp).
#include "step_bench.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "bnorm/error.hpp"
#include "nn/threads.hpp"
#include "optim/classifier_trainer.hpp"
#include "timer.hpp"

namespace bnorm::bench {
namespace {

struct Args {
  bool bn = false;
  int threads = 1;
  int64_t steps = 0, warmup = 0, batch = 60;
  double max_seconds = 0.0;  // > 0: stop timing after this long (whole chunks)
};

// The options, or nothing after printing why they are wrong.
std::optional<Args> parse(int argc, char** argv, const StepBenchSpec& spec) {
  Args a{.steps = spec.steps, .warmup = spec.warmup};
  if (argc % 2 == 0) {
    std::fprintf(stderr, "usage: %s [--bn 0|1] [--threads T] [--steps N] ...\n", spec.program);
    return std::nullopt;
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
      return std::nullopt;
    }
  }
  return a;
}

int run(const Args& args, const StepBenchSpec& spec) {
  nn::set_num_threads(args.threads);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<int32_t> label(0, 9);
  const auto rows = static_cast<size_t>(args.batch);
  const auto features = static_cast<size_t>(spec.features);
  std::vector<float> x(static_cast<size_t>(spec.pool) * rows * features);
  std::vector<int32_t> y(static_cast<size_t>(spec.pool) * rows);
  for (float& v : x) v = pixel(rng);
  for (int32_t& v : y) v = label(rng);

  nn::Sequential net = spec.build(args.bn);
  optim::Sgd sgd(net.parameters(), {.lr = spec.lr, .momentum = 0.9});
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::constant(spec.lr));
  double loss = 0.0;
  int64_t step = 0;
  const auto train = [&](int64_t steps) {
    for (const int64_t end = step + steps; step < end; ++step) {
      const auto b = static_cast<size_t>(step % spec.pool);
      loss = trainer.train_step(std::span(x).subspan(b * rows * features, rows * features),
                                std::span(y).subspan(b * rows, rows));
    }
  };
  train(args.warmup);
  const Stopwatch watch;
  int64_t timed = 0;
  while (timed < args.steps && (args.max_seconds <= 0.0 || watch.seconds() < args.max_seconds)) {
    const int64_t chunk = std::min(spec.chunk, args.steps - timed);
    train(chunk);
    timed += chunk;
  }
  const double seconds = watch.seconds();
  std::printf(
      "{\"impl\": \"bnorm\", \"model\": \"%s\", \"bn\": %s, \"threads\": %d, \"batch\": %lld, "
      "\"steps\": %lld, \"seconds\": %.6f, \"steps_per_s\": %.2f, \"last_loss\": %.6f}\n",
      spec.model, args.bn ? "true" : "false", args.threads, static_cast<long long>(args.batch),
      static_cast<long long>(timed), seconds, static_cast<double>(timed) / seconds, loss);
  return 0;
}

}  // namespace

int run_step_bench(int argc, char** argv, const StepBenchSpec& spec) {
  const std::optional<Args> args = parse(argc, argv, spec);
  if (!args) return 2;
  try {
    return run(*args, spec);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace bnorm::bench
