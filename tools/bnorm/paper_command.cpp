// `bnorm paper <id>`: the paper's claims E1-E12 (or `all`) measured on real data;
// writes one CSV per experiment, report.html and summary.json into --out and prints each verdict.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bnorm/error.hpp"
#include "commands.hpp"
#include "data/dataset.hpp"
#include "distributed.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_output.hpp"
#include "nn/threads.hpp"
#include "options.hpp"

namespace bnorm::cli {
namespace {

struct PaperArgs {
  std::string id;
  experiments::PaperSettings settings;
  bool quiet = false;
  int jobs = 0;  // 0: the core count / threads
  std::string out = "out/paper";
  std::string data_dir;
};

void run(const PaperArgs& a) {
  std::vector<std::string> ids;
  if (a.id == "all" || a.id == "ALL") {
    for (std::string_view id : experiments::paper_experiment_ids()) ids.emplace_back(id);
  } else {
    ids.push_back(a.id);
  }
  experiments::PaperSettings s = a.settings;
  // Under mpirun every rank trains the same runs on its shards (E3); rank 0 prints and writes.
  s.comm = world();
  const bool writer = world_rank() == 0;
  s.show_progress = !a.quiet && writer;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s.jobs = a.jobs > 0 ? a.jobs : std::max(1, cores / s.threads);
  nn::set_num_threads(s.threads);

  const std::filesystem::path out(a.out);
  std::error_code ec;
  if (writer) std::filesystem::create_directories(out, ec);
  if (ec) throw Error("cannot create output directory " + out.string() + ": " + ec.message());

  std::map<std::string, std::pair<data::Dataset, data::Dataset>> loaded;
  std::vector<experiments::ExperimentResult> results;
  for (const std::string& id : ids) {
    const std::string name(experiments::paper_dataset(id));
    if (!loaded.count(name)) {
      loaded[name] = {data::load_dataset(name, data::Split::kTrain, a.data_dir),
                      data::load_dataset(name, data::Split::kTest, a.data_dir)};
    }
    const auto& [train, test] = loaded[name];
    results.push_back(experiments::run_paper_experiment(id, s, train, test));
    if (!writer) continue;
    // Written after every experiment, so a long suite leaves its finished part behind.
    experiments::write_paper_outputs(out, results);
    for (const experiments::ClaimResult& c : results.back().claims) {
      std::printf("%-10s %s (%.1f s)\n  measured: %s\n  reproduced when: %s\n", c.id.c_str(),
                  c.reproduced ? "REPRODUCED" : "NOT reproduced", c.wall_seconds,
                  c.measured.c_str(), c.threshold.c_str());
    }
    std::fflush(stdout);
  }
  if (!writer) return;
  std::printf("report: %s\nsummary: %s\n", std::filesystem::absolute(out / "report.html").c_str(),
              std::filesystem::absolute(out / "summary.json").c_str());
}

}  // namespace

CommandState add_paper_command(CLI::App& app, bool run_it) {
  auto args = std::make_shared<PaperArgs>();
  experiments::PaperSettings& s = args->settings;
  std::vector<std::string> valid{"all"};
  std::string listed = "all";
  for (std::string_view id : experiments::paper_experiment_ids()) {
    valid.emplace_back(id);
    listed += ", " + std::string(id);
  }
  for (std::string_view id : experiments::paper_experiment_aliases()) valid.emplace_back(id);
  CLI::App* cmd = app.add_subcommand(
      "paper", "The paper's claims measured (PAPER.md experiments E1-E12; see the id list)");
  cmd->add_option("id", args->id, "experiment: " + listed)
      ->required()
      ->check(CLI::IsMember(valid, CLI::ignore_case));
  cmd->add_flag("--quick", s.quick, "the short form: a few minutes per experiment on 2 cores");
  add_int_option(cmd, "--seeds", s.seeds, 1, 1000,
                 "runs per model (seeds 1..N); default: per experiment")
      ->default_str("");
  add_int_option(cmd, "--threads", s.threads, 1, max_threads(),
                 "threads (OpenMP and OpenBLAS; at most 4 per core)");
  add_int_option(
      cmd, "--jobs", args->jobs, 1, max_threads(),
      "trainings run at once where an experiment has several (E1, E3, E6, E7, E8, E12), each "
      "on --threads threads (default: cores / threads); the numbers do not depend on it")
      ->default_str("");
  cmd->add_option_function<std::string>(
      "--lr",
      [&s](const std::string& text) { s.lrs = parse_double_list("--lr", text, 1e-30, 1e6); },
      "E2's learning rates, comma-separated (default 0.01 x sqrt(10)^k, k = 0..7)");
  add_int_option(cmd, "--steps", s.steps, 1, 1'000'000'000,
                 "training steps per run (default: per experiment)")
      ->default_str("");
  add_int_option(cmd, "--batch", s.batch, 2, 1'000'000, "examples per step");
  add_int_option(cmd, "--test-limit", s.test_limit, 1, 1'000'000'000,
                 "evaluate on the first N test images only")
      ->default_str("");
  add_data_out_quiet_and_run(cmd, args, run_it, &run);
  return {[args] { *args = PaperArgs{}; },
          [args] {
            const PaperArgs& a = *args;
            const experiments::PaperSettings& s = a.settings;
            return describe_values(a.id, s.quick, s.seeds, s.threads, s.jobs, s.lrs, s.steps,
                                   s.batch, s.test_limit, s.show_progress, a.quiet, a.jobs, a.out,
                                   a.data_dir);
          }};
}

}  // namespace bnorm::cli
