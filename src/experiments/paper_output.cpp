// The report of the paper suite: a verdict table first, then one section per experiment.
#include "experiments/paper_output.hpp"

#include <fstream>

#include "bnorm/error.hpp"
#include "experiments/paper_text.hpp"
#include "io/atomic_file.hpp"
#include "report/html_report.hpp"

namespace bnorm::experiments {

void write_paper_outputs(const std::filesystem::path& dir,
                         const std::vector<ExperimentResult>& results) {
  std::vector<ClaimResult> claims;
  report::HtmlReport html("bnorm: the paper's claims, measured");
  html.paragraph(
      "Each claim of Ioffe & Szegedy (2015) measured on this machine, with the threshold fixed "
      "before the run (docs/paper.md). A claim that did not reproduce is shown with its numbers.");
  std::vector<std::vector<report::Cell>> rows;
  for (const ExperimentResult& r : results) {
    for (const ClaimResult& c : r.claims) {
      claims.push_back(c);
      rows.push_back({c.id, c.claim, c.measured, c.threshold,
                      c.reproduced ? report::Cell("yes", "pass") : report::Cell("no", "fail"),
                      report::Cell(std::to_string(c.seeds), "num"),
                      report::Cell(fmt("%.1f", c.wall_seconds), "num")});
    }
  }
  html.table({"id", "claim", "measured", "reproduced when", "reproduced", "seeds", "wall s"}, rows);
  for (const ExperimentResult& r : results) {
    const std::filesystem::path csv_path = dir / r.csv_name;
    io::write_file_atomically(csv_path, r.csv);
    html.heading(r.title);
    for (const std::string& note : r.notes) html.paragraph(note);
    for (const report::Plot& plot : r.plots) {
      html.figure(report::render_svg(plot), plot.title);
      if (!plot.zoom_late_values) continue;
      if (const auto zoom = report::zoomed_to_late_values(plot)) {
        html.figure(report::render_svg(*zoom), zoom->title + ": after the first tenth of training");
      }
    }
    html.paragraph("Data: " + r.csv_name + fmt("; wall time %.1f s.", r.wall_seconds));
  }
  html.write(dir / "report.html");
  write_claims_summary((dir / "summary.json").string(), claims);
}

}  // namespace bnorm::experiments
