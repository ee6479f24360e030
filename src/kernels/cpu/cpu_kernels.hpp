// The optimized CPU kernels: one build of src/kernels/cpu/*.inc per instruction set, each compiled
// with its own flags, and the run-time choice between them. The library itself is built for
// baseline x86-64; only the files of one ISA use its instructions, and only when the CPU has them.
#pragma once

#include <string_view>

#include "kernels/kernels.hpp"

namespace bnorm::kernels {

enum class CpuIsa { kScalar, kAvx2, kAvx512 };

std::string_view to_string(CpuIsa isa);

// Whether this CPU can run the kernels built for isa (kScalar: always).
bool cpu_supports(CpuIsa isa);

// The best ISA this CPU supports, or the one env BNORM_CPU_ISA=avx512|avx2|scalar forces. Read
// once per process. Throws bnorm::Error when the variable names an unknown or unsupported ISA,
// or when BNORM_STREAM_MIN_BYTES is set to anything but a whole number of bytes.
CpuIsa selected_cpu_isa();

// The kernels built for isa; isa must be supported (cpu_supports).
template <typename T>
const KernelSet<T>& cpu_kernels(CpuIsa isa);

// One namespace per ISA build; each defines kernel_set<float> and kernel_set<double>.
namespace avx512 {
template <typename T>
const KernelSet<T>& kernel_set();
}
namespace avx2 {
template <typename T>
const KernelSet<T>& kernel_set();
}
namespace scalar {
template <typename T>
const KernelSet<T>& kernel_set();
}

}  // namespace bnorm::kernels
