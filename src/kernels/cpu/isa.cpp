// Run-time choice of the instruction set for the optimized kernels: what the CPU reports, unless
// BNORM_CPU_ISA forces one (tests and benchmarks compare paths on one machine).
#include <cstdlib>
#include <string>

#include "bnorm/error.hpp"
#include "kernels/cpu/cpu_kernels.hpp"
#include "kernels/cpu/scratch.hpp"

namespace bnorm::kernels {

std::string_view to_string(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kScalar:
      return "scalar";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool cpu_supports(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kScalar:
      return true;
    case CpuIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  }
  return false;
}

namespace {

CpuIsa choose_isa() {
  const char* forced = std::getenv("BNORM_CPU_ISA");
  if (forced == nullptr || *forced == '\0') {
    for (CpuIsa isa : {CpuIsa::kAvx512, CpuIsa::kAvx2}) {
      if (cpu_supports(isa)) return isa;
    }
    return CpuIsa::kScalar;
  }
  for (CpuIsa isa : {CpuIsa::kAvx512, CpuIsa::kAvx2, CpuIsa::kScalar}) {
    if (to_string(isa) != forced) continue;
    if (!cpu_supports(isa)) {
      throw Error(
          "[batch_norm] expected BNORM_CPU_ISA to name an instruction set this CPU has, got " +
          std::string(forced) + "; unset it or use a lower one (avx2, scalar)");
    }
    return isa;
  }
  throw Error("[batch_norm] expected BNORM_CPU_ISA to be avx512, avx2 or scalar, got " +
              std::string(forced));
}

}  // namespace

CpuIsa selected_cpu_isa() {
  // Kernels do not throw: a malformed BNORM_STREAM_MIN_BYTES is reported here, at dispatch,
  // before any kernel reads it. Once per process; while it throws, every dispatch throws again.
  static const CpuIsa isa = [] {
    stream_min_bytes(0);
    return choose_isa();
  }();
  return isa;
}

template <typename T>
const KernelSet<T>& cpu_kernels(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kAvx512:
      return avx512::kernel_set<T>();
    case CpuIsa::kAvx2:
      return avx2::kernel_set<T>();
    case CpuIsa::kScalar:
      break;
  }
  return scalar::kernel_set<T>();
}

template const KernelSet<float>& cpu_kernels<float>(CpuIsa);
template const KernelSet<double>& cpu_kernels<double>(CpuIsa);

}  // namespace bnorm::kernels
