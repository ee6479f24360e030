// Writes the two reports the browser tests load, from tiny runs on synthetic data: Figure 1's
// (<out>/fig1/report.html, via run_fig1) and the paper suite's with every experiment
// (<out>/paper/report.html, via run_paper_experiment). The numbers mean nothing; the pages are
// built by the same code as the real ones, with every kind of plot they hold.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "band_images.hpp"
#include "experiments/fig1_run.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_output.hpp"

namespace {

using bnorm::data::Dataset;

Dataset bands(int64_t count, uint64_t seed) { return bnorm::test::band_images(count, seed); }

void write_fig1(const std::filesystem::path& dir, const Dataset& train, const Dataset& test) {
  namespace ex = bnorm::experiments;
  const ex::Fig1Settings s{.dataset = "synthetic",
                           .steps = 200,
                           .batch = 20,
                           .eval_every = 20,
                           .init_sigma = 0.1,
                           .seed = 1,
                           .threads = 1,
                           .binarize = false,
                           .probe_unit = 0,
                           .probe_size = 50};
  const ex::Fig1Run run =
      ex::run_fig1(s, {.lr_candidates = {0.5}, .show_progress = false}, train, test);
  std::filesystem::create_directories(dir);
  ex::write_fig1_csv(dir / "metrics.csv", run.points);
  ex::write_fig1_summary(dir / "summary.json", run);
  ex::write_fig1_report(dir / "report.html", run);
}

void write_paper(const std::filesystem::path& dir, const Dataset& train, const Dataset& test) {
  namespace ex = bnorm::experiments;
  const ex::PaperSettings s{
      .seeds = 1, .lrs = {0.1, 1.0}, .steps = 3, .batch = 10, .show_progress = false};
  const Dataset train_1100 = bands(1100, 1);  // E7 trains on batches of 1024
  std::vector<ex::ExperimentResult> results;
  for (std::string_view id : ex::paper_experiment_ids()) {
    ex::PaperSettings si = s;
    if (id == "E9a") si.steps = 200;  // its verdict compares step 100 with the end
    results.push_back(ex::run_paper_experiment(id, si, id == "E7" ? train_1100 : train, test));
  }
  std::filesystem::create_directories(dir);
  ex::write_paper_outputs(dir, results);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path out(argv[1]);
    // 400: E6's two-class batches of 60 need 30 training samples of every class.
    const Dataset train = bands(400, 1), test = bands(30, 2);
    write_fig1(out / "fig1", train, test);
    write_paper(out / "paper", train, test);
    std::printf("%s\n%s\n", (out / "fig1" / "report.html").c_str(),
                (out / "paper" / "report.html").c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
