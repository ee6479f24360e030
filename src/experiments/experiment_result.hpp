// What one experiment of `bnorm paper` hands to the command: its claim rows, a CSV, and the plots
// and notes of its section in the HTML report (paper_output.hpp writes them).
#pragma once

#include <string>
#include <vector>

#include "experiments/claims.hpp"
#include "report/svg_plot.hpp"

namespace bnorm::experiments {

struct ExperimentResult {
  std::string id;                   // "E2"
  std::string title;                // the report section's heading
  std::vector<ClaimResult> claims;  // rows of summary.json
  std::string csv_name;             // "e2_lr_sweep.csv"
  std::string csv;                  // its text, header line first
  std::vector<report::Plot> plots;
  std::vector<std::string> notes;  // paragraphs for the report: setup and findings
  double wall_seconds = 0;
};

}  // namespace bnorm::experiments
