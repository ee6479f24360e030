// The benchmark run: STREAM first, then every case with the contenders interleaved rep by rep,
// so machine noise (other tenants, frequency changes) hits all of them alike.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "problem.hpp"
#include "stats.hpp"
#include "stream.hpp"

namespace bnorm::bench {

struct BenchOptions {
  std::vector<Shape> shapes = default_shapes();
  std::vector<Op> ops = {Op::kForwardTrain, Op::kForwardInfer, Op::kBackward};
  // Element types; a bfloat16 case follows the float32 one of the same problem when both run.
  std::vector<DType> dtypes = {DType::kFloat32};
  std::vector<int> threads = {1, 2};
  std::vector<bool> cold = {false, true};  // hot, then cold cache
  int reps = 10;
  int cold_mib = 128;
  size_t stream_bytes = size_t{256} << 20;  // each of STREAM's three arrays
  int stream_reps = 10;
  std::string python;  // interpreter for the PyTorch worker
  std::string
      torch_worker;  // torch_worker.py; empty: found next to the program (find_torch_worker)
  bool with_torch = true;
  bool with_onednn = true;
};

// One contender in one case.
struct ContenderResult {
  std::string name;
  // "ok", "missing", "n/a" (does not apply to this problem), "wrong: <first bad element>" (failed
  // the check against the reference; not timed) or "error: <message>".
  std::string status;
  std::optional<TimingSummary> timing;  // when status is ok
  std::string kernel;                   // implementation name, when the contender reports one
  bool anchor = true;                   // counts towards best_anchor_us (same memory layout)
};

struct CaseResult {
  std::string shape;
  std::string layout;
  std::string op;
  std::string dtype = "f32";
  int threads = 1;
  std::string cache;  // "hot" or "cold"
  int64_t numel = 0;
  double bytes = 0.0;                       // compulsory bytes of one call, see compulsory_bytes()
  std::vector<ContenderResult> contenders;  // bnorm first
  std::optional<double> bnorm_us, torch_us, onednn_us, best_anchor_us;  // medians
  std::string best_anchor;              // which contender best_anchor_us came from
  std::optional<double> pct_of_stream;  // bnorm's effective bandwidth / STREAM scale, threads alike
  std::optional<double> bnorm_f32_us;   // bfloat16 rows: bnorm's float32 median of the same case
};

struct ContenderInfo {
  std::string name;
  std::string missing;  // empty when available
  std::string details;
};

struct BenchReport {
  std::vector<StreamResult> stream;
  std::vector<ContenderInfo> contenders;
  std::vector<CaseResult> cases;
  int reps = 0;
  int cold_mib = 0;
};

// Throws bnorm::Error for options a run cannot use: empty lists, counts below 1, a run that needs
// more than physical memory, or a malformed BNORM_CPU_ISA / BNORM_STREAM_MIN_BYTES. Allocates
// nothing; run_bench calls it first.
void validate_options(const BenchOptions& options);

// Runs everything; progress lines go to `log` when given. Throws bnorm::Error on bad options.
BenchReport run_bench(const BenchOptions& options, std::ostream* log);

// The STREAM scale rate measured at `threads`, or the closest thread count measured.
double stream_scale_gbs(const std::vector<StreamResult>& stream, int threads);

}  // namespace bnorm::bench
