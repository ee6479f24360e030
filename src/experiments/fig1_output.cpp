// The files of a Figure 1 run.
#include "experiments/fig1_output.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "bnorm/error.hpp"
#include "io/atomic_file.hpp"
#include "report/html_report.hpp"
#include "report/svg_plot.hpp"

namespace bnorm::experiments {
namespace {

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

report::Cell verdict_cell(bool ok) {
  return ok ? report::Cell("yes", "pass") : report::Cell("no", "fail");
}

// Figure 1's panels: three side by side, each this size in pixels; their legends go below the
// plot area when no corner is free, so the row keeps its width.
constexpr int kPanelWidth = 356, kPanelHeight = 300;

std::string step_label(const Fig1Settings& s) {
  return "training step (batches of " + std::to_string(s.batch) + ")";
}

// The y range of panels (b) and (c): both percentile curves' extremes, rounded out, so that the
// two panels share one axis and the drift without BN is seen against the stable input with BN.
std::pair<double, double> percentile_range(const std::vector<Fig1Point>& points) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Fig1Point& p : points) {
    for (const Percentiles& q : {p.input_baseline, p.input_bn}) {
      for (double v : {q.p15, q.p85}) {
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      }
    }
  }
  if (!(lo < hi)) return {lo - 1, hi + 1};  // flat or empty: the plot picks its own range
  return report::nice_y_range(lo, hi);
}

report::Plot percentile_plot(const Fig1Settings& s, const std::vector<Fig1Point>& points, bool bn) {
  report::Plot plot{.title = bn ? "(c) With BN" : "(b) Without BN",
                    .x_label = step_label(s),
                    .y_label = "input to the sigmoid",
                    .legend_outside = report::LegendOutside::kBelow};
  report::Band band{.label = "15th to 85th percentile"};
  report::Series p15{.dashed = true}, p50{.label = "median"}, p85{.dashed = true};
  for (const Fig1Point& p : points) {
    const Percentiles& q = bn ? p.input_bn : p.input_baseline;
    for (auto* v : {&band.x, &p15.x, &p50.x, &p85.x}) v->push_back(static_cast<double>(p.step));
    band.low.push_back(q.p15);
    band.high.push_back(q.p85);
    p15.y.push_back(q.p15);
    p50.y.push_back(q.p50);
    p85.y.push_back(q.p85);
  }
  p15.color = p85.color = p50.color = band.color = bn ? "#1f77b4" : "#d62728";
  plot.bands.push_back(band);
  plot.series = {p15, p50, p85};
  const auto [lo, hi] = percentile_range(points);
  if (std::isfinite(lo) && std::isfinite(hi)) plot.y_min = lo, plot.y_max = hi;
  return plot;
}

// Panel (a): both networks' test accuracy, the y range starting at the lowest value after step 0.
report::Plot accuracy_plot(const Fig1Settings& s, const std::vector<Fig1Point>& points) {
  report::Plot acc{.title = "(a) Test accuracy",
                   .x_label = step_label(s),
                   .y_label = "test accuracy",
                   .legend_outside = report::LegendOutside::kBelow,
                   .y_percent = true};
  report::Series base{.label = "without BN", .color = "#d62728"},
      bn{.label = "with BN", .color = "#1f77b4"};
  for (const Fig1Point& p : points) {
    base.x.push_back(static_cast<double>(p.step));
    base.y.push_back(p.acc_baseline);
    bn.x.push_back(static_cast<double>(p.step));
    bn.y.push_back(p.acc_bn);
  }
  acc.series = {base, bn};
  double lo = 1.0;
  for (const Fig1Point& p : points)
    if (p.step > 0) lo = std::min({lo, p.acc_baseline, p.acc_bn});
  acc.y_min = std::max(0.0, std::floor(lo * 20) / 20);
  acc.y_max = 1.0;
  return acc;
}

void add_figure(report::HtmlReport& r, const Fig1Settings& s,
                const std::vector<Fig1Point>& points) {
  const report::Plot acc = accuracy_plot(s, points);
  r.heading("Figure 1");
  r.figure_row(
      {report::render_svg(acc, kPanelWidth, kPanelHeight),
       report::render_svg(percentile_plot(s, points, false), kPanelWidth, kPanelHeight),
       report::render_svg(percentile_plot(s, points, true), kPanelWidth, kPanelHeight)},
      "(a) Test accuracy of the network without and with Batch Normalization against training "
      "steps, evaluated every " +
          std::to_string(s.eval_every) +
          " steps. (b, c) The 15th, 50th (median) and 85th percentiles of the input to the "
          "sigmoid of unit " +
          std::to_string(s.probe_unit) + " of the last hidden layer over " +
          std::to_string(s.probe_size) +
          " fixed training images, (b) without BN, (c) with BN (the BN output); (b) and (c) "
          "share their y axis.");
  // The paper's panel (a) spans 0.7 to 1; here the first evaluations can sit near chance, which
  // flattens the part where the criteria are decided: the same curves again, zoomed.
  if (const auto zoom = report::zoomed_to_late_values(acc)) {
    r.figure(report::render_svg(*zoom),
             "(a), zoomed to the accuracies taken after the first tenth of training.");
  }
}

void add_verdict(report::HtmlReport& r, const Fig1Verdict& v) {
  r.heading("Verdict (criteria of experiment E1, fixed before the run)");
  const double gain_pp = 100.0 * (v.final_acc_bn - v.final_acc_baseline);
  r.table(
      {"criterion", "measured", "threshold", "met"},
      {{"evaluations where BN is ahead", fixed(100 * v.frac_evals_bn_ahead, 1) + "%",
        ">= " + fixed(100 * Fig1Verdict::kMinFracAhead, 0) + "%", verdict_cell(v.ahead_ok())},
       {"steps to the baseline's best accuracy (" + fixed(100 * v.baseline_best_acc, 2) +
            "%): baseline / BN",
        std::to_string(v.baseline_best_step) + " / " +
            (v.bn_steps_to_baseline_best > 0 ? std::to_string(v.bn_steps_to_baseline_best)
                                             : std::string("never")) +
            " = " + fixed(v.steps_ratio, 2) + "x",
        ">= " + fixed(Fig1Verdict::kMinStepsRatio, 1) + "x", verdict_cell(v.steps_ok())},
       {"final accuracy, BN - baseline",
        fixed(100 * v.final_acc_bn, 2) + "% - " + fixed(100 * v.final_acc_baseline, 2) +
            "% = " + fixed(gain_pp, 2) + " pp",
        ">= +" + fixed(Fig1Verdict::kMinFinalGainPp, 1) + " pp", verdict_cell(v.final_ok())},
       {"drift of the median sigmoid input, BN / baseline",
        fixed(v.drift_bn, 3) + " / " + fixed(v.drift_baseline, 3) + " = " + fixed(v.drift_ratio, 3),
        "<= " + fixed(Fig1Verdict::kMaxDriftRatio, 1), verdict_cell(v.drift_ok())}});
  r.paragraph(std::string("Reproduced: ") +
              (v.reproduced() ? "yes, all four criteria hold." : "no, see the failed rows above."));
}

void add_settings(report::HtmlReport& r, const Fig1Settings& s, double wall_seconds) {
  r.heading("Settings");
  r.table({"setting", "value"},
          {{"dataset", s.dataset + " (" + std::to_string(s.train_size) + " train / " +
                           std::to_string(s.test_size) + " test" +
                           (s.binarize ? ", binarized at 0.5)" : ")")},
           {"steps x batch", std::to_string(s.steps) + " x " + std::to_string(s.batch)},
           {"learning rate, momentum", fixed(s.lr, 4) + ", " + fixed(s.momentum, 2)},
           {"initial weights", "N(0, " + fixed(s.init_sigma, 3) + "^2)"},
           {"seed, threads", std::to_string(s.seed) + ", " + std::to_string(s.threads)},
           {"wall time", fixed(wall_seconds, 1) + " s"}});
  if (s.lr_sweep.size() > 1) {
    r.heading("Learning rate");
    r.paragraph(
        "Both networks use the learning rate at which the baseline ended best, so the "
        "comparison favours the baseline, as in PAPER.md (E1).");
    std::vector<std::vector<report::Cell>> rows;
    for (const LrTrial& t : s.lr_sweep) {
      rows.push_back({fixed(t.lr, 4),
                      t.diverged_at >= 0 ? "diverged at step " + std::to_string(t.diverged_at)
                                         : fixed(100 * t.final_acc_baseline, 2) + "%",
                      t.final_acc_bn < 0 ? "not trained" : fixed(100 * t.final_acc_bn, 2) + "%",
                      t.lr == s.lr ? report::Cell("chosen", "pass") : report::Cell("")});
    }
    r.table({"learning rate", "baseline's final test accuracy", "BN's final test accuracy", ""},
            rows);
  }
}

}  // namespace

void write_fig1_csv(const std::filesystem::path& path, const std::vector<Fig1Point>& points) {
  std::ostringstream out;
  out << "step,acc_baseline,acc_bn,loss_baseline,loss_bn,"
         "p15_baseline,p50_baseline,p85_baseline,p15_bn,p50_bn,p85_bn\n";
  out << std::setprecision(9);
  for (const Fig1Point& p : points) {
    out << p.step << ',' << p.acc_baseline << ',' << p.acc_bn << ',' << p.loss_baseline << ','
        << p.loss_bn << ',' << p.input_baseline.p15 << ',' << p.input_baseline.p50 << ','
        << p.input_baseline.p85 << ',' << p.input_bn.p15 << ',' << p.input_bn.p50 << ','
        << p.input_bn.p85 << '\n';
  }
  io::write_file_atomically(path, out.str());
}

void write_fig1_summary(const std::filesystem::path& path, const Fig1Run& run) {
  const Fig1Settings& s = run.settings;
  const Fig1Verdict& v = run.verdict;
  const double wall_seconds = run.wall_seconds;
  nlohmann::ordered_json j;
  j["frac_evals_bn_ahead"] = v.frac_evals_bn_ahead;
  j["steps_ratio"] = v.steps_ratio;
  j["final_acc_bn"] = v.final_acc_bn;
  j["final_acc_baseline"] = v.final_acc_baseline;
  j["drift_ratio"] = v.drift_ratio;
  j["wall_seconds"] = wall_seconds;
  j["baseline_best_acc"] = v.baseline_best_acc;
  j["baseline_best_step"] = v.baseline_best_step;
  j["bn_steps_to_baseline_best"] = v.bn_steps_to_baseline_best;
  j["drift_bn"] = v.drift_bn;
  j["drift_baseline"] = v.drift_baseline;
  j["reproduced"] = {{"bn_ahead", v.ahead_ok()},
                     {"steps_ratio", v.steps_ok()},
                     {"final_gain", v.final_ok()},
                     {"drift", v.drift_ok()},
                     {"all", v.reproduced()}};
  j["settings"] = {{"dataset", s.dataset},
                   {"train_size", s.train_size},
                   {"test_size", s.test_size},
                   {"steps", s.steps},
                   {"batch", s.batch},
                   {"eval_every", s.eval_every},
                   {"lr", s.lr},
                   {"momentum", s.momentum},
                   {"init_sigma", s.init_sigma},
                   {"seed", s.seed},
                   {"threads", s.threads},
                   {"binarize", s.binarize},
                   {"probe_unit", s.probe_unit},
                   {"probe_size", s.probe_size}};
  j["lr_sweep"] = nlohmann::ordered_json::array();
  for (const LrTrial& t : s.lr_sweep) {
    j["lr_sweep"].push_back(
        {{"lr", t.lr},
         {"final_acc_baseline", t.final_acc_baseline},
         {"diverged_at", t.diverged_at},
         {"final_acc_bn",
          t.final_acc_bn < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(t.final_acc_bn)}});
  }
  j["bn_diverged_at"] = run.bn_diverged_at;
  io::write_file_atomically(path, j.dump(2) + '\n');
}

void write_fig1_report(const std::filesystem::path& path, const Fig1Run& run) {
  report::HtmlReport r("Batch Normalization, Figure 1 reproduced");
  r.paragraph("A 784-100-100-100-10 sigmoid network trained on " + run.settings.dataset +
              " with and without "
              "Batch Normalization on every hidden layer, from the same seed and initialization "
              "(Ioffe & Szegedy 2015, Section 4.1). The BN network is evaluated with its running "
              "statistics, never the test batch's own.");
  add_figure(r, run.settings, run.points);
  add_verdict(r, run.verdict);
  add_settings(r, run.settings, run.wall_seconds);
  if (run.bn_diverged_at >= 0)
    r.paragraph("The BN network diverged at step " + std::to_string(run.bn_diverged_at) + ".");
  r.write(path);
}

}  // namespace bnorm::experiments
