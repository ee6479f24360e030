// A Figure 1 run's files are written with every key the issue names.
#include "experiments/fig1_output.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace bnorm::experiments {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Fig1Output, WritesCsvSummaryAndReport) {
  const auto dir = std::filesystem::temp_directory_path() / "bnorm_fig1_output_test";
  std::filesystem::create_directories(dir);
  std::vector<Fig1Point> pts;
  for (int i = 0; i <= 4; ++i) {
    pts.push_back({.step = 500 * i,
                   .acc_baseline = 0.1 + 0.2 * i,
                   .acc_bn = 0.1 + 0.22 * i,
                   .input_baseline = {-1.0 - i, -0.5 * i, 1.0},
                   .input_bn = {-1, 0, 1}});
  }
  Fig1Run run{.settings = {.dataset = "mnist",
                           .steps = 2000,
                           .batch = 60,
                           .eval_every = 500,
                           .lr = 0.3,
                           .lr_sweep = {{.lr = 0.1, .final_acc_baseline = 0.8},
                                        {.lr = 0.3, .final_acc_baseline = 0.9},
                                        {.lr = 1.0, .diverged_at = 1234}}},
              .points = pts,
              .verdict = judge_fig1(pts),
              .wall_seconds = 12.5};
  write_fig1_csv(dir / "metrics.csv", pts);
  write_fig1_summary(dir / "summary.json", run);
  write_fig1_report(dir / "report.html", run);

  const std::string csv = slurp(dir / "metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);  // header + 5 evaluations
  const auto summary = nlohmann::json::parse(slurp(dir / "summary.json"));
  for (const char* key : {"frac_evals_bn_ahead", "steps_ratio", "final_acc_bn",
                          "final_acc_baseline", "drift_ratio", "wall_seconds"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(summary["final_acc_bn"].get<double>(), 0.1 + 0.22 * 4);
  EXPECT_DOUBLE_EQ(summary["wall_seconds"].get<double>(), 12.5);
  ASSERT_EQ(summary["lr_sweep"].size(), 3u);
  EXPECT_EQ(summary["lr_sweep"][2]["diverged_at"].get<int64_t>(), 1234);
  const std::string html = slurp(dir / "report.html");
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 3u);
  EXPECT_NE(html.find("evaluations where BN is ahead"), std::string::npos);
  EXPECT_NE(html.find("diverged at step 1234"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Fig1Output, UnwritablePathIsAnErrorNamingIt) {
  try {
    write_fig1_csv("/nonexistent-dir/metrics.csv", {});
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/metrics.csv"), std::string::npos);
  }
}

}  // namespace
}  // namespace bnorm::experiments
