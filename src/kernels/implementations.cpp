// The list of kernel implementations, best first with the reference last, and which of them this
// process may run: the ISAs the CPU reports, capped by BNORM_CPU_ISA when it forces one (or, on
// one thread, by a ScopedCpuIsa).
#include <array>
#include <cstdlib>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bnorm/error.hpp"
#include "kernels/cpu/scratch.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::kernels {

// One build of src/kernels/cpu per ISA (kernels/cpu/batch_norm_<isa>.cpp), each compiled with its
// own flags; the rest of the library is baseline x86-64.
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
namespace avx512_bf16 {  // bfloat16 only
template <typename T>
const KernelSet<T>& kernel_set();
}

namespace {

constexpr CpuIsa kIsasBestFirst[] = {CpuIsa::kAvx512, CpuIsa::kAvx2, CpuIsa::kScalar};

}  // namespace

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

std::optional<CpuIsa> cpu_isa_from_string(std::string_view name) {
  for (CpuIsa isa : kIsasBestFirst) {
    if (to_string(isa) == name) return isa;
  }
  return std::nullopt;
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

bool cpu_has_avx512_bf16() {
  return cpu_supports(CpuIsa::kAvx512) && __builtin_cpu_supports("avx512bf16");
}

template <typename T>
bool cpu_runs(const KernelSet<T>& k) {
  return cpu_supports(k.isa) && (!k.needs_avx512_bf16 || cpu_has_avx512_bf16());
}

namespace {

CpuIsa choose_isa() {
  const char* forced = std::getenv("BNORM_CPU_ISA");
  if (forced == nullptr || *forced == '\0') {
    for (CpuIsa isa : kIsasBestFirst) {
      if (cpu_supports(isa)) return isa;
    }
    return CpuIsa::kScalar;
  }
  const std::optional<CpuIsa> isa = cpu_isa_from_string(forced);
  if (!isa) {
    throw Error("[batch_norm] expected BNORM_CPU_ISA to be avx512, avx2 or scalar, got " +
                std::string(forced));
  }
  if (!cpu_supports(*isa)) {
    throw Error(
        "[batch_norm] expected BNORM_CPU_ISA to name an instruction set this CPU has, got " +
        std::string(forced) + "; unset it or use a lower one (avx2, scalar)");
  }
  return *isa;
}

// Whether isa is `ceiling` or below it in kIsasBestFirst (the enum is ordered best first).
bool at_or_below(CpuIsa isa, CpuIsa ceiling) { return isa >= ceiling; }

// The ISA a ScopedCpuIsa forces on this thread. Dispatch reads it on the calling thread, before
// the kernel's OpenMP region starts.
thread_local std::optional<CpuIsa> thread_forced_isa;

}  // namespace

ScopedCpuIsa::ScopedCpuIsa(CpuIsa isa) : previous_(thread_forced_isa) {
  if (!cpu_supports(isa)) {
    throw Error("[batch_norm] expected an instruction set this CPU has to force, got " +
                std::string(to_string(isa)) + "; use a lower one (avx2, scalar)");
  }
  thread_forced_isa = isa;
}

ScopedCpuIsa::~ScopedCpuIsa() { thread_forced_isa = previous_; }

CpuIsa selected_cpu_isa() {
  // Once per process; while it throws, every call throws again.
  static const CpuIsa isa = [] {
    stream_min_bytes(0);
    return choose_isa();
  }();
  return isa;
}

namespace {

// Whether BNORM_CPU_ISA names an ISA, or a ScopedCpuIsa forces one on this thread: then the
// forced build runs every problem.
bool isa_forced() {
  static const bool forced_by_environment = [] {
    const char* v = std::getenv("BNORM_CPU_ISA");
    return v != nullptr && *v != '\0';
  }();
  return forced_by_environment || thread_forced_isa.has_value();
}

// The AVX-512 builds leave row-major problems from memory to the AVX2 build, which is faster on
// them (tuning::kWideRowMajorMaxBytes, counted in bytes of the element type T), unless
// BNORM_CPU_ISA or a ScopedCpuIsa forces an ISA.
template <typename T>
bool avx512_supports(const Extents& e) {
  const bool row_major = e.s == 1 || e.layout == Layout::kChannelsLast;
  const int64_t bytes = e.numel() * static_cast<int64_t>(sizeof(T));
  return isa_forced() || !row_major || bytes <= tuning::kWideRowMajorMaxBytes;
}

const KernelSet<float>& avx512_float() {
  static const KernelSet<float> k = [] {
    KernelSet<float> set = avx512::kernel_set<float>();
    set.supports = avx512_supports<float>;
    return set;
  }();
  return k;
}

// The AVX512_BF16 build runs every bfloat16 problem, row-major ones from memory too: its rounding
// is one instruction where the AVX2 build's takes several. It declines every problem on a CPU
// without AVX512_BF16, so that kAuto falls through to the AVX-512F build, which rounds by shifts as
// the AVX2 one does and keeps the float32 rule above.
const KernelSet<bfloat16>& avx512_bf16_native() {
  static const KernelSet<bfloat16> k = [] {
    KernelSet<bfloat16> set = avx512_bf16::kernel_set<bfloat16>();
    set.supports = [](const Extents&) { return cpu_has_avx512_bf16(); };
    return set;
  }();
  return k;
}

const KernelSet<bfloat16>& avx512_bf16_fallback() {
  static const KernelSet<bfloat16> k = [] {
    KernelSet<bfloat16> set = avx512::kernel_set<bfloat16>();
    set.supports = avx512_supports<bfloat16>;
    return set;
  }();
  return k;
}

}  // namespace

template <typename T>
std::span<const KernelSet<T>* const> all_implementations() {
  if constexpr (std::is_same_v<T, float>) {
    static const KernelSet<T>* const list[] = {&avx512_float(), &avx2::kernel_set<T>(),
                                               &scalar::kernel_set<T>(), &reference_kernels<T>()};
    return list;
  } else if constexpr (std::is_same_v<T, bfloat16>) {
    static const KernelSet<T>* const list[] = {&avx512_bf16_native(), &avx512_bf16_fallback(),
                                               &avx2::kernel_set<T>(), &scalar::kernel_set<T>(),
                                               &reference_kernels<T>()};
    return list;
  } else {
    static const KernelSet<T>* const list[] = {&scalar::kernel_set<T>(), &reference_kernels<T>()};
    return list;
  }
}

template <typename T>
std::span<const KernelSet<T>* const> implementations() {
  // One list per ceiling, indexed by CpuIsa: those this CPU runs at or below it.
  using Lists = std::array<std::vector<const KernelSet<T>*>, std::size(kIsasBestFirst)>;
  static const Lists runnable = [] {
    Lists lists;
    for (CpuIsa ceiling : kIsasBestFirst) {
      for (const KernelSet<T>* k : all_implementations<T>()) {
        if (cpu_runs(*k) && at_or_below(k->isa, ceiling)) {
          lists[static_cast<size_t>(ceiling)].push_back(k);
        }
      }
    }
    return lists;
  }();
  const CpuIsa selected = selected_cpu_isa();  // checks the environment even when forced here
  return runnable[static_cast<size_t>(thread_forced_isa.value_or(selected))];
}

template <typename T>
const KernelSet<T>& cpu_kernels(CpuIsa isa) {
  for (const KernelSet<T>* k : all_implementations<T>()) {
    if (k != &reference_kernels<T>() && at_or_below(k->isa, isa) && cpu_runs(*k)) return *k;
  }
  return reference_kernels<T>();  // not reached: every list has a scalar build
}

template std::span<const KernelSet<float>* const> all_implementations<float>();
template std::span<const KernelSet<double>* const> all_implementations<double>();
template std::span<const KernelSet<float>* const> implementations<float>();
template std::span<const KernelSet<double>* const> implementations<double>();
template const KernelSet<float>& cpu_kernels<float>(CpuIsa);
template const KernelSet<double>& cpu_kernels<double>(CpuIsa);
template std::span<const KernelSet<bfloat16>* const> all_implementations<bfloat16>();
template std::span<const KernelSet<bfloat16>* const> implementations<bfloat16>();
template const KernelSet<bfloat16>& cpu_kernels<bfloat16>(CpuIsa);
template bool cpu_runs<float>(const KernelSet<float>&);
template bool cpu_runs<double>(const KernelSet<double>&);
template bool cpu_runs<bfloat16>(const KernelSet<bfloat16>&);

}  // namespace bnorm::kernels
