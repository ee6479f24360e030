// The files of `bnorm paper`: one CSV per experiment, one HTML report with a section per
// experiment, and summary.json with one row per claim (write_claims_summary).
#pragma once

#include <filesystem>
#include <vector>

#include "experiments/experiment_result.hpp"

namespace bnorm::experiments {

// Writes <dir>/<csv_name> for each result, <dir>/report.html and <dir>/summary.json. Throws
// bnorm::Error naming a file that cannot be written.
void write_paper_outputs(const std::filesystem::path& dir,
                         const std::vector<ExperimentResult>& results);

}  // namespace bnorm::experiments
