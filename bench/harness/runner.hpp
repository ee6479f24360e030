// The benchmark run: STREAM first, then every case with the contenders interleaved rep by rep,
// so machine noise (other tenants, frequency changes) hits all of them alike.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
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
  // A bnorm-<isa> contender each: bnorm's calls with that ISA forced on the calling thread, timed
  // beside the default dispatch (not anchors).
  std::vector<kernels::CpuIsa> bnorm_isas;
};

// One contender in one case.
struct ContenderResult {
  std::string name;
  // "ok", "missing", "n/a" (does not apply to this problem), "wrong: <first bad element>" (failed
  // the check against the reference; not timed) or "error: <message>".
  std::string status;
  std::optional<TimingSummary> timing;  // when status is ok
  std::string kernel;                   // implementation name, when the contender reports one
  bool anchor = true;                   // counts towards best_anchor_us (Contender::anchor)
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

// Throws bnorm::Error for options a run cannot use: empty lists, counts below 1, an ISA in
// bnorm_isas twice, a run that needs more than physical memory, or a malformed BNORM_CPU_ISA /
// BNORM_STREAM_MIN_BYTES. Allocates nothing; run_bench calls it first.
void validate_options(const BenchOptions& options);

// Runs everything; progress lines go to `log` when given. Throws bnorm::Error on bad options.
BenchReport run_bench(const BenchOptions& options, std::ostream* log);

// The order of the contenders' timed calls in rep `rep` (indices into the contender list, bnorm's
// bnorm_group first: bnorm and its bnorm-<isa> contenders). The order rotates by one slot each
// rep, so each slot starts a rep in turn and follows a different one. bnorm's group takes one
// slot, its members back to back in an order that rotates too: whatever comes before the group (a
// switch from another process slows the calls right after it) falls on each of them equally
// often, so bnorm and bnorm-<isa> running the same kernel time alike. A group of one is the plain
// rotation.
std::vector<size_t> rep_order(size_t contenders, size_t bnorm_group, int rep);

// The STREAM scale rate measured at `threads`, or the closest thread count measured.
double stream_scale_gbs(const std::vector<StreamResult>& stream, int threads);

}  // namespace bnorm::bench
