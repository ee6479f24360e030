// The benchmark's outputs: a table for people and JSON (one row per case) for scripts.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "runner.hpp"

namespace bnorm::bench {

// The table: STREAM rates, contenders, then one line per case with each contender's median and
// spread, bnorm's speed-up over each and its % of STREAM.
void print_table(const BenchReport& report, std::ostream& out);

// {"build": "Release", "reps", "cold_mib", "stream": [...], "contenders": [...], "rows": [{shape,
// layout, op, threads, cache, bnorm_us, torch_us, onednn_us, best_anchor_us, pct_of_stream, ...}]}.
// Unmeasured values are null.
nlohmann::json to_json(const BenchReport& report);

// Writes to_json(report) to path atomically (temp file, fsync, rename); throws bnorm::Error naming
// the file when it cannot.
void write_json(const BenchReport& report, const std::string& path);

}  // namespace bnorm::bench
