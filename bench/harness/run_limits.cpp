// The memory bound and the kernel check of `bnorm bench` (see run_limits.hpp).
#include "run_limits.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "bnorm/error.hpp"
#include "bnorm/functional.hpp"

namespace bnorm::bench {
namespace {

// Per element of a problem: x, dy, the reference output and make_problem's temporary (16 B);
// bnorm's output (4 B); each oneDNN contender's x, dy and output (12 B); each PyTorch worker's
// copies and outputs plus the harness's copy of its result (16 B). Each bnorm-<isa> contender
// holds an output of its own, as bnorm does.
constexpr double kProblemBytesPerElement = 16;
constexpr double kBnormBytesPerElement = 4;
constexpr double kOnednnBytesPerElement = 2 * 12;
constexpr double kTorchBytesPerElement = 2 * 16;
// bfloat16 problems: each bnorm contender's copies of x, dy and its output (6 B).
constexpr double kBf16BytesPerElement = 6;

std::string gib(double bytes) { return fmt::format("{:.1f} GiB", bytes / (1 << 30)); }

}  // namespace

double MemoryNeed::largest_phase() const {
  return std::max(stream_bytes, cold_bytes + problem_bytes);
}

MemoryNeed memory_need(const BenchOptions& o) {
  // bnorm (with each forced ISA), two oneDNN and two PyTorch contenders each hold a cold-cache
  // buffer.
  const int bnorms = 1 + static_cast<int>(o.bnorm_isas.size());
  const int contenders = bnorms + (o.with_onednn ? 2 : 0) + (o.with_torch ? 2 : 0);
  const bool bf16 = std::find(o.dtypes.begin(), o.dtypes.end(), DType::kBfloat16) != o.dtypes.end();
  const double per_element = kProblemBytesPerElement +
                             bnorms * (kBnormBytesPerElement + (bf16 ? kBf16BytesPerElement : 0)) +
                             (o.with_onednn ? kOnednnBytesPerElement : 0) +
                             (o.with_torch ? kTorchBytesPerElement : 0);
  double largest = 0;
  for (const Shape& s : o.shapes) {
    const std::optional<int64_t> n = checked_numel(s.dims);
    largest = std::max(largest, n ? static_cast<double>(*n) : 9.3e18);
  }
  return {.stream_bytes = 3.0 * static_cast<double>(o.stream_bytes),
          .cold_bytes = contenders * static_cast<double>(o.cold_mib) * (1 << 20),
          .problem_bytes = largest * per_element};
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

void check_fits_in_memory(const BenchOptions& o, uint64_t physical_bytes) {
  if (physical_bytes == 0) return;
  const double limit = static_cast<double>(physical_bytes);
  const MemoryNeed need = memory_need(o);
  const std::string why =
      "this machine's physical memory, " + gib(limit) + " (a run that swaps would time the disk)";
  if (need.stream_bytes > limit) {
    throw Error(fmt::format(
        "[bench] expected STREAM's 3 arrays of --stream-mib to fit in {}, got --stream-mib {} "
        "({} in all)",
        why, o.stream_bytes >> 20, gib(need.stream_bytes)));
  }
  if (need.cold_bytes + need.problem_bytes > limit) {
    throw Error(fmt::format(
        "[bench] expected the largest shape's data and copies ({}) plus the contenders' "
        "--cold-mib buffers ({}) to fit in {}: try smaller --shapes or --cold-mib",
        gib(need.problem_bytes), gib(need.cold_bytes), why));
  }
}

void check_kernel_choice() {
  // The kernel choice reads BNORM_CPU_ISA and BNORM_STREAM_MIN_BYTES and throws naming the
  // variable; on a 2x1 problem nothing is allocated.
  const TensorDesc tiny{.dims = {2, 1}, .layout = Layout::kNC};
  (void)selected_kernel_name<float>(tiny, Backend::kAuto);
}

}  // namespace bnorm::bench
