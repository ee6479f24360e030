// Micro-benchmark of the BatchNorm kernels through the BatchNorm module (what a network calls):
// training forward (with the running-statistics update), inference forward and backward, on the
// harness's default shapes in each of their layouts, at each thread count, hot (same buffers
// every call) or cold (the harness's cache flush before each call). Prints the median, minimum and
// spread of many calls and bnorm's bandwidth by the compulsory bytes (compulsory_bytes()).
// Everything but the module calls is the harness's: shapes, inputs, clock, flush, statistics.
//
//   bnorm_kernels_bench [--backend auto|reference] [--threads 1,2] [--cold] [--filter text]
//                       [--min-reps N] [--seconds S]
#include <omp.h>

#include <CLI/CLI.hpp>
#include <bnorm/batch_norm.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bnorm/error.hpp"
#include "bnorm/functional.hpp"
#include "problem.hpp"
#include "stats.hpp"
#include "timer.hpp"

namespace {

using namespace bnorm;
using bench::Op;

struct Options {
  std::string backend = "auto";
  std::vector<int> threads = {1, 2};
  bool cold = false;
  std::string filter;
  int min_reps = 20;
  double seconds = 0.3;  // per case, after the minimum repetitions
  int cold_mib = 128;
};

void report(const std::string& name, Op op, int threads, const Options& o, int64_t numel,
            const char* kernel, const std::vector<double>& samples_us) {
  const bench::TimingSummary t = bench::summarize(samples_us);
  const double gbs = bench::gb_per_s(bench::compulsory_bytes(op, numel), t.median_us);
  std::printf("%-24s %-10s%-5s %dt %10.2f us (min %9.2f, ±%3.0f%%)  %7.1f GB/s  %s  reps %d\n",
              name.c_str(), std::string(bench::to_string(op)).c_str(), o.cold ? "@cold" : "",
              threads, t.median_us, t.min_us, t.spread_pct, gbs, kernel, t.reps);
}

void run_case(const bench::Shape& shape, Layout layout, int threads, const Options& o,
              bench::CacheFlusher& flusher) {
  const std::string name = shape.name + "/" + std::string(bench::layout_name(layout));
  const auto wanted = [&](Op op) {
    return o.filter.empty() ||
           (name + " " + std::string(bench::to_string(op))).find(o.filter) != std::string::npos;
  };
  const Op ops[] = {Op::kForwardTrain, Op::kForwardInfer, Op::kBackward};
  if (!wanted(ops[0]) && !wanted(ops[1]) && !wanted(ops[2])) return;
  omp_set_num_threads(threads);
  // The backward problem carries x and dy; its reference outputs are not needed here.
  const bench::Problem p = bench::make_problem(shape, layout, Op::kBackward);
  const Backend backend = o.backend == "reference" ? Backend::kReference : Backend::kAuto;
  const TensorDesc desc = p.desc();
  std::vector<float> y(p.x.size()), dx(p.x.size());
  BatchNorm<float> bn({.num_features = p.channels(), .layout = layout, .backend = backend});
  const auto time = [&](auto&& call) {
    return bench::sample_us(o.min_reps, o.seconds,
                            [&] { return bench::time_call_us(call, o.cold ? &flusher : nullptr); });
  };
  const char* kernel = selected_kernel_name<float>(desc, backend);
  if (wanted(Op::kForwardTrain)) {
    report(name, Op::kForwardTrain, threads, o, shape.numel(), kernel,
           time([&] { bn.forward(p.x, desc, y, Mode::kTrain); }));
  }
  if (wanted(Op::kForwardInfer)) {
    report(name, Op::kForwardInfer, threads, o, shape.numel(), kernel,
           time([&] { bn.forward(p.x, desc, y, Mode::kInference); }));
  }
  if (wanted(Op::kBackward)) {
    bn.forward(p.x, desc, y, Mode::kTrain);
    report(name, Op::kBackward, threads, o, shape.numel(), kernel,
           time([&] { bn.backward(p.x, p.dy, dx); }));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Times bnorm's BatchNorm module on the benchmark's shapes (see docs/bench.md)"};
  app.add_option("--backend", o.backend, "Kernels: auto (dispatch) or reference")
      ->check(CLI::IsMember({"auto", "reference"}))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "Thread counts, comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_flag("--cold", o.cold, "Flush the caches before each call");
  app.add_option("--cold-mib", o.cold_mib, "MiB read by the flush")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--filter", o.filter, "Only cases whose 'shape/layout op' contains this text");
  app.add_option("--min-reps", o.min_reps, "Calls per case at least")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "Seconds per case, after the minimum calls")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const char* isa = std::getenv("BNORM_CPU_ISA");
  std::printf("# median, minimum and interquartile spread over repetitions; %s; BNORM_CPU_ISA=%s\n",
              o.cold ? "cold: the caches flushed before each call" : "hot", isa ? isa : "(auto)");
  bench::CacheFlusher flusher(o.cold ? o.cold_mib : 1);
  try {
    for (int t : o.threads) {
      for (const bench::Shape& s : bench::default_shapes()) {
        for (Layout layout : s.layouts()) run_case(s, layout, t, o, flusher);
      }
    }
  } catch (const bnorm::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
