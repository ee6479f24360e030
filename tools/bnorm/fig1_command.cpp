// `bnorm fig1`: experiment E1, Figure 1 of the paper, on real data; writes metrics.csv,
// summary.json and report.html and prints the verdict.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bnorm/error.hpp"
#include "commands.hpp"
#include "data/dataset.hpp"
#include "distributed.hpp"
#include "experiments/fig1_run.hpp"
#include "options.hpp"

namespace bnorm::cli {
namespace {

// Option bounds: far above any useful run, low enough that nothing overflows or runs for years.
constexpr int64_t kMaxSteps = 1'000'000'000;
constexpr int64_t kMaxBatch = 1'000'000;
constexpr double kMinPositive = 1e-30;  // a learning rate or sigma of 0 or below is meaningless
constexpr double kMaxLr = 1e6;
constexpr double kMaxInitSigma = 1e6;

struct Fig1Args {
  experiments::Fig1Settings settings{.dataset = "mnist",
                                     .steps = 50000,
                                     .batch = 60,
                                     .eval_every = 500,
                                     // Plain SGD: the paper's text names no momentum for
                                     // Figure 1 (E1's configuration A; docs/fig1.md).
                                     .momentum = 0.0,
                                     .init_sigma = 0.1,
                                     .seed = 1,
                                     .threads = 1,
                                     .binarize = true,
                                     .probe_unit = 0,
                                     .probe_size = 1000};
  std::vector<double> lr{0.1, 0.3, 1.0};
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool grayscale = false;
  bool quiet = false;
  std::string out = "out/fig1";
  std::string data_dir;
  std::string bn_sync;  // "global" or "local" under mpirun; empty: global
};

// A run whose metrics went NaN or infinite (e.g. weights that overflow) is a failed run: its
// files are written for inspection, but the exit code says it failed.
void require_finite(const experiments::Fig1Run& r) {
  for (const experiments::Fig1Point& p : r.points) {
    // Step 0 has no training loss yet (NaN by design).
    const double values[] = {p.acc_baseline,
                             p.acc_bn,
                             p.step > 0 ? p.loss_baseline : 0,
                             p.step > 0 ? p.loss_bn : 0,
                             p.input_baseline.p50,
                             p.input_bn.p50};
    for (double v : values) {
      if (!std::isfinite(v))
        throw Error("[fig1] expected finite metrics, got a non-finite value at step " +
                    std::to_string(p.step) +
                    " (the training diverged: try a smaller --lr or --init-sigma)");
    }
  }
}

// Data-parallel settings from --bn-sync: meaningful under mpirun; usable in one process only when
// this build could run data-parallel.
bool sync_bn(const std::string& bn_sync) {
  if (!bn_sync.empty() && !have_mpi())
    throw Error(
        "[fig1] --bn-sync needs a bnorm built with MPI (libopenmpi-dev openmpi-bin) and "
        "a run under mpirun -np K, got --bn-sync " +
        bn_sync + " in a build without MPI");
  return bn_sync != "local";
}

void run(const Fig1Args& a) {
  const bool sync = sync_bn(a.bn_sync);
  experiments::Fig1Settings s = a.settings;
  s.binarize = !a.grayscale;
  data::Dataset train = data::load_dataset(s.dataset, data::Split::kTrain, a.data_dir);
  data::Dataset test = data::load_dataset(s.dataset, data::Split::kTest, a.data_dir);

  const std::filesystem::path out(a.out);
  std::error_code ec;
  if (world_rank() == 0) std::filesystem::create_directories(out, ec);
  if (ec) throw Error("cannot create output directory " + out.string() + ": " + ec.message());

  const experiments::Fig1Run r = experiments::run_fig1(s,
                                                       {.lr_candidates = a.lr,
                                                        .show_progress = !a.quiet,
                                                        .jobs = a.jobs,
                                                        .comm = world(),
                                                        .sync_bn = sync},
                                                       std::move(train), std::move(test));
  if (world_rank() != 0) return;  // data parallel: every rank holds the same run; one writes it
  experiments::write_fig1_csv(out / "metrics.csv", r.points);
  experiments::write_fig1_summary(out / "summary.json", r);
  experiments::write_fig1_report(out / "report.html", r);
  require_finite(r);

  const experiments::Fig1Verdict& v = r.verdict;
  std::printf("fig1: %s, %lld steps x %lld, lr %g, %.1f s\n", r.settings.dataset.c_str(),
              static_cast<long long>(r.settings.steps), static_cast<long long>(r.settings.batch),
              r.settings.lr, r.wall_seconds);
  std::printf("  BN ahead at %.1f%% of evaluations          (>= 90%%: %s)\n",
              100 * v.frac_evals_bn_ahead, v.ahead_ok() ? "yes" : "no");
  std::printf("  baseline's best %.2f%% reached %.2fx sooner (>= 2x: %s)\n",
              100 * v.baseline_best_acc, v.steps_ratio, v.steps_ok() ? "yes" : "no");
  std::printf("  final accuracy %.2f%% vs %.2f%%          (>= +0.3 pp: %s)\n", 100 * v.final_acc_bn,
              100 * v.final_acc_baseline, v.final_ok() ? "yes" : "no");
  std::printf("  median-input drift ratio %.3f           (<= 0.5: %s)\n", v.drift_ratio,
              v.drift_ok() ? "yes" : "no");
  std::printf(
      "  reproduced at this one seed: %s (the paper's verdict, over seeds: bnorm paper E1)\n",
      v.reproduced() ? "yes" : "no");
  std::printf("report: %s\n", std::filesystem::absolute(out / "report.html").c_str());
}

}  // namespace

CommandState add_fig1_command(CLI::App& app, bool run_it) {
  auto args = std::make_shared<Fig1Args>();
  experiments::Fig1Settings& s = args->settings;
  CLI::App* cmd = app.add_subcommand(
      "fig1", "Figure 1 of the paper: the MNIST sigmoid MLP with and without BN (experiment E1)");
  cmd->add_option("--dataset", s.dataset, "mnist (10k real digits, 8k/2k) or fashion (60k/10k)")
      ->capture_default_str();
  add_int_option(cmd, "--steps", s.steps, 1, kMaxSteps, "training steps per network");
  add_int_option(cmd, "--batch", s.batch, 2, kMaxBatch, "examples per step");
  cmd->add_option_function<std::string>(
         "--lr",
         [args](const std::string& text) {
           args->lr = parse_double_list("--lr", text, kMinPositive, kMaxLr);
         },
         "learning rate, or a comma-separated list: the baseline is trained at each and "
         "both networks use the one where it ended best")
      ->default_str("0.1,0.3,1");
  cmd->add_option_function<std::string>(
         "--momentum",
         [&s](const std::string& text) {
           s.momentum = parse_double("--momentum", text, 0, 1, /*max_open=*/true);
         },
         "SGD momentum in [0, 1) (default plain SGD, as the paper's text; see docs/fig1.md)")
      ->default_str("0");
  cmd->add_option_function<std::string>(
         "--init-sigma",
         [&s](const std::string& text) {
           s.init_sigma = parse_double("--init-sigma", text, kMinPositive, kMaxInitSigma);
         },
         "initial weights ~ N(0, sigma^2)")
      ->default_str("0.1");
  cmd->add_option_function<std::string>(
         "--seed", [&s](const std::string& text) { s.seed = parse_uint64("--seed", text); },
         "seed for initialization and batch order")
      ->default_str("1");
  add_int_option(cmd, "--threads", s.threads, 1, max_threads(),
                 "threads (OpenMP and OpenBLAS; at most 4 per core)");
  add_int_option(cmd, "--jobs", args->jobs, 1, max_threads(),
                 "networks trained at once (default: the number of cores); the numbers do not "
                 "depend on it");
  add_int_option(cmd, "--eval-every", s.eval_every, 1, kMaxSteps, "steps between evaluations");
  add_int_option(cmd, "--probe-unit", s.probe_unit, 0, 99,
                 "unit of the last hidden layer (100 units) to follow");
  add_int_option(cmd, "--probe-size", s.probe_size, 1, kMaxBatch,
                 "fixed training images the unit is probed on");
  cmd->add_flag("--grayscale", args->grayscale,
                "keep gray levels (default: binarize at 0.5, as the paper's inputs are binary)");
  cmd->add_option("--bn-sync", args->bn_sync,
                  "under mpirun -np K: BatchNorm statistics of the global batch (global, the "
                  "default) or of each rank's shard (local); see docs/distributed.md")
      ->check(CLI::IsMember({"global", "local"}));
  add_data_out_quiet_and_run(cmd, args, run_it, &run);
  return {[args] { *args = Fig1Args{}; },
          [args] {
            const Fig1Args& a = *args;
            const experiments::Fig1Settings& s = a.settings;
            return describe_values(s.dataset, s.steps, s.batch, s.eval_every, s.momentum,
                                   s.init_sigma, s.seed, s.threads, s.binarize, s.probe_unit,
                                   s.probe_size, a.lr, a.jobs, a.grayscale, a.quiet, a.out,
                                   a.data_dir, a.bn_sync);
          }};
}

}  // namespace bnorm::cli
