// print_table and to_json: the same numbers, for people and for scripts.
#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>
#include <string_view>
#include <utility>
#include <vector>

#include "io/atomic_file.hpp"

namespace bnorm::bench {
namespace {

nlohmann::json or_null(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::optional<double> ratio(const std::optional<double>& num, const std::optional<double>& den) {
  if (!num || !den || *den <= 0) return std::nullopt;
  return *num / *den;
}

// "123.4 ±5%", or the status when the contender was not timed.
std::string cell(const ContenderResult& c) {
  if (!c.timing) {
    if (c.status.starts_with("wrong")) return "WRONG";
    return c.status.starts_with("error") ? "ERROR" : c.status;
  }
  const double us = c.timing->median_us;
  const std::string value = us >= 100  ? fmt::format("{:.0f}", us)
                            : us >= 10 ? fmt::format("{:.1f}", us)
                                       : fmt::format("{:.2f}", us);
  return fmt::format("{}{} ±{:.0f}%", value, c.anchor ? "" : "*", c.timing->spread_pct);
}

std::string speedup(const std::optional<double>& other, const std::optional<double>& bnorm) {
  const auto r = ratio(other, bnorm);
  return r ? fmt::format("{:.2f}x", *r) : "-";
}

// bnorm, or bnorm with an ISA forced (bnorm-avx2, ...): the contenders whose kernel is named.
constexpr std::string_view kForcedIsaPrefix = "bnorm-";
bool is_bnorm(const std::string& name) {
  return name == "bnorm" || name.starts_with(kForcedIsaPrefix);
}

// Appends each name once, comma-separated.
void add_once(std::string& list, const std::string& name) {
  if ((", " + list + ",").find(", " + name + ",") == std::string::npos) {
    list += (list.empty() ? "" : ", ") + name;
  }
}

// The kernels each bnorm contender ran, bnorm's first: "cpu-avx512, cpu-avx2; bnorm-avx2:
// cpu-avx2".
std::string kernels_ran(const BenchReport& report) {
  std::vector<std::pair<std::string, std::string>> by_contender;  // (name, kernels)
  for (const CaseResult& r : report.cases) {
    for (const ContenderResult& c : r.contenders) {
      if (!is_bnorm(c.name) || c.kernel.empty()) continue;
      auto it = std::find_if(by_contender.begin(), by_contender.end(),
                             [&](const auto& k) { return k.first == c.name; });
      if (it == by_contender.end()) it = by_contender.insert(it, {c.name, ""});
      add_once(it->second, c.kernel);
    }
  }
  std::string out;
  for (const auto& [name, kernels] : by_contender) {
    out += (out.empty() ? "" : "; ") + (name == "bnorm" ? "" : name + ": ") + kernels;
  }
  return out;
}

// One case's kernels: bnorm's, then each forced ISA's ("cpu-avx2 [avx512: cpu-avx512]").
std::string case_kernels(const CaseResult& r) {
  std::string bnorm, forced;
  for (const ContenderResult& c : r.contenders) {
    if (c.name == "bnorm") {
      bnorm = c.kernel;
    } else if (is_bnorm(c.name) && !c.kernel.empty()) {
      forced += fmt::format("{}{}: {}", forced.empty() ? "" : ", ",
                            c.name.substr(kForcedIsaPrefix.size()), c.kernel);
    }
  }
  return forced.empty() ? bnorm : fmt::format("{} [{}]", bnorm, forced);
}

}  // namespace

void print_table(const BenchReport& report, std::ostream& out) {
  out << "STREAM (best of reps, GB/s):\n";
  for (const StreamResult& s : report.stream) {
    out << fmt::format(
        "  {} thread(s), 3 x {} MiB: copy {:.1f}  scale {:.1f}  triad {:.1f}  "
        "(scale with streaming stores {:.1f})\n",
        s.threads, s.array_bytes >> 20, s.copy_gbs, s.scale_gbs, s.triad_gbs, s.scale_nt_gbs);
  }
  out << "Contenders:\n";
  for (const ContenderInfo& c : report.contenders) {
    out << fmt::format("  {:<13} {}\n", c.name,
                       c.missing.empty() ? c.details : "MISSING: " + c.missing);
  }
  // Which of bnorm's kernel implementations ran (BNORM_CPU_ISA changes it), each name once, and
  // which each forced ISA ran.
  const std::string kernels = kernels_ran(report);
  if (!kernels.empty()) out << "bnorm kernels: " << kernels << "\n";
  out << fmt::format(
      "Median us ±interquartile spread over {} interleaved reps; * = not an anchor (a different "
      "memory layout, or bnorm with an ISA forced); cold = {} MiB read before each call.\n"
      "speed-up = contender / bnorm "
      "(> 1: bnorm faster); %STREAM = bnorm's compulsory bytes (fwd 8 B, bwd 12 B per "
      "element; half for bf16) / time / STREAM scale. bf16 rows: bfloat16 x, y, dy, dx with "
      "float32 parameters (PyTorch's mixed precision); vsF32 = bnorm float32 / bnorm bf16.\n",
      report.reps, report.cold_mib);
  if (report.cases.empty()) return;
  std::string header = fmt::format("{:<18} {:<5} {:<10} {:<4} {:>2} {:<4}", "shape", "lay", "op",
                                   "dt", "t", "cache");
  for (const ContenderResult& c : report.cases.front().contenders) {
    header += fmt::format(" | {:>15}", c.name);
  }
  header += fmt::format(" | {:>7} {:>7} {:>7} {:>6} | {:>7} | {}", "vsTorch", "vsDNNL", "vsBest",
                        "vsF32", "%STREAM", "bnorm kernel [forced ISAs' kernels]");
  out << header << "\n" << std::string(header.size(), '-') << "\n";
  for (const CaseResult& r : report.cases) {
    std::string line = fmt::format("{:<18} {:<5} {:<10} {:<4} {:>2} {:<5}", r.shape, r.layout, r.op,
                                   r.dtype, r.threads, r.cache);
    for (const ContenderResult& c : r.contenders) line += fmt::format(" | {:>15}", cell(c));
    line += fmt::format(" | {:>7} {:>7} {:>7} {:>6} | {:>7} | {}", speedup(r.torch_us, r.bnorm_us),
                        speedup(r.onednn_us, r.bnorm_us), speedup(r.best_anchor_us, r.bnorm_us),
                        speedup(r.bnorm_f32_us, r.bnorm_us),
                        r.pct_of_stream ? fmt::format("{:.0f}%", *r.pct_of_stream) : "-",
                        case_kernels(r));
    out << line << "\n";
  }
  // Anything wrong or failed gets its full message once, below the table, with the first case
  // it happened in and how many rows it affected.
  std::vector<std::pair<std::string, std::string>> seen;  // (message, first case)
  std::vector<int> rows;
  for (const CaseResult& r : report.cases) {
    for (const ContenderResult& c : r.contenders) {
      if (!c.status.starts_with("wrong") && !c.status.starts_with("error")) continue;
      const std::string message = c.name + ": " + c.status;
      auto it =
          std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == message; });
      if (it == seen.end()) {
        seen.emplace_back(
            message, fmt::format("{} {} {} t={} {}", r.shape, r.layout, r.op, r.threads, r.cache));
        rows.push_back(1);
      } else {
        ++rows[static_cast<size_t>(it - seen.begin())];
      }
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    out << fmt::format("{} (first in {}; {} row(s))\n", seen[i].first, seen[i].second, rows[i]);
  }
}

nlohmann::json to_json(const BenchReport& report) {
  nlohmann::json j;
  j["build"] = BNORM_BENCH_BUILD_TYPE;  // a Debug build's numbers are not results
  j["reps"] = report.reps;
  j["cold_mib"] = report.cold_mib;
  j["bytes_per_element"] = {{"forward", 8}, {"backward", 12}};
  for (const StreamResult& s : report.stream) {
    j["stream"].push_back({{"threads", s.threads},
                           {"array_bytes", s.array_bytes},
                           {"copy_gbs", s.copy_gbs},
                           {"scale_gbs", s.scale_gbs},
                           {"triad_gbs", s.triad_gbs},
                           {"scale_nt_gbs", s.scale_nt_gbs}});
  }
  for (const ContenderInfo& c : report.contenders) {
    j["contenders"].push_back({{"name", c.name},
                               {"available", c.missing.empty()},
                               {"missing", c.missing},
                               {"details", c.details}});
  }
  j["rows"] = nlohmann::json::array();
  for (const CaseResult& r : report.cases) {
    nlohmann::json row = {{"shape", r.shape},
                          {"layout", r.layout},
                          {"op", r.op},
                          {"dtype", r.dtype},
                          {"threads", r.threads},
                          {"cache", r.cache},
                          {"numel", r.numel},
                          {"bytes", r.bytes},
                          {"bnorm_us", or_null(r.bnorm_us)},
                          {"torch_us", or_null(r.torch_us)},
                          {"onednn_us", or_null(r.onednn_us)},
                          {"best_anchor_us", or_null(r.best_anchor_us)},
                          {"best_anchor", r.best_anchor},
                          {"speedup_vs_torch", or_null(ratio(r.torch_us, r.bnorm_us))},
                          {"speedup_vs_onednn", or_null(ratio(r.onednn_us, r.bnorm_us))},
                          {"speedup_vs_best_anchor", or_null(ratio(r.best_anchor_us, r.bnorm_us))},
                          {"pct_of_stream", or_null(r.pct_of_stream)},
                          {"bnorm_f32_us", or_null(r.bnorm_f32_us)},
                          {"speedup_vs_f32", or_null(ratio(r.bnorm_f32_us, r.bnorm_us))}};
    for (const ContenderResult& c : r.contenders) {
      nlohmann::json cj = {{"status", c.status}, {"anchor", c.anchor}, {"kernel", c.kernel}};
      if (c.timing) {
        cj["median_us"] = c.timing->median_us;
        cj["min_us"] = c.timing->min_us;
        cj["spread_pct"] = c.timing->spread_pct;
        cj["reps"] = c.timing->reps;
        cj["speedup_of_bnorm"] = or_null(ratio(c.timing->median_us, r.bnorm_us));
      }
      if (c.name == "bnorm") row["bnorm_kernel"] = c.kernel;
      row["contenders"][c.name] = cj;
    }
    j["rows"].push_back(row);
  }
  return j;
}

void write_json(const BenchReport& report, const std::string& path) {
  io::write_file_atomically(path, to_json(report).dump(1) + "\n");
}

}  // namespace bnorm::bench
