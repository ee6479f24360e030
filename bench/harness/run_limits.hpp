// What a `bnorm bench` run needs before it starts: the memory its buffers will take, bounded by the
// machine's physical memory, and a kernel choice the environment allows. Checked before anything
// large is allocated, so a run that cannot work fails at once with the reason instead of bad_alloc.
#pragma once

#include <cstdint>

#include "runner.hpp"

namespace bnorm::bench {

// Bytes the largest phase of the run allocates (an estimate from above): STREAM's three arrays, or
// the contenders' cold-cache buffers plus the largest problem's data and the contenders' copies.
struct MemoryNeed {
  double stream_bytes = 0;   // 3 arrays of options.stream_bytes
  double cold_bytes = 0;     // one cold_mib buffer per contender
  double problem_bytes = 0;  // the largest shape, all copies
  double largest_phase() const;
};
MemoryNeed memory_need(const BenchOptions& options);

// The machine's physical memory in bytes (sysconf), or 0 when it cannot be told.
uint64_t physical_memory_bytes();

// Throws bnorm::Error naming the option, the bytes needed and `physical_bytes` when a phase of the
// run needs more than physical memory (a run that swaps would time the disk). 0: not checked.
void check_fits_in_memory(const BenchOptions& options, uint64_t physical_bytes);

// Throws the kernels' bnorm::Error when BNORM_CPU_ISA or BNORM_STREAM_MIN_BYTES is malformed, so
// the run stops before timing anything instead of reporting every bnorm row as an error.
void check_kernel_choice();

}  // namespace bnorm::bench
