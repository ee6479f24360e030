// The contract every BatchNorm kernel implementation fulfils, and the ordered list of them that
// src/functional.cpp picks from (as oneDNN's implementation lists: best first, the reference
// last, each saying whether it supports a problem).
// Kernels see validated problems only (the API layer in src/functional.cpp checks everything), so
// they never throw. Element types: float, double, and bfloat16 (stored in bfloat16, computed in
// float32 with float64 sums, as float is). Per-channel arrays are float64 [C]; gamma and beta are
// always present (the API layer passes ones and zeros when the module has no affine). With relu,
// the output is max(y, 0) and the backward masks dy where the recomputed y = gamma * xhat + beta is
// not > 0.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "bnorm/bfloat16.hpp"
#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"

namespace bnorm::kernels {

// Instruction sets an implementation may need, best first. kScalar is baseline x86-64, which every
// CPU has: the scalar build of the optimized kernels and the reference need nothing more.
enum class CpuIsa { kAvx512, kAvx2, kScalar };

template <typename T>
struct KernelSet {
  const char* name;  // "cpu-avx512", "cpu-avx2", "cpu-scalar", "reference"
  CpuIsa isa;        // what the CPU must have to run it
  bool (*supports)(const Extents& e);

  // Batch moments per channel into moments [C], then y = gamma * (x - mean) * invstd + beta with
  // invstd [C] = 1 / sqrt(moments.variance() + eps) (var biased), written with exactly that
  // expression so that callers keep it instead of computing it again.
  void (*forward_train)(const T* x, const Extents& e, const double* gamma, const double* beta,
                        double eps, bool relu, T* y, Moments* moments, double* invstd);

  // y = gamma * (x - mean) * invstd + beta with given mean, invstd [C].
  void (*forward_infer)(const T* x, const Extents& e, const double* mean, const double* invstd,
                        const double* gamma, const double* beta, bool relu, T* y);

  // dbeta [C] = sum dy, dgamma [C] = sum dy * xhat (always written); dx (nullable) as in
  // functional.hpp, through the batch statistics when through_stats. beta is read only with relu.
  void (*backward)(const T* x, const T* dy, const Extents& e, const double* mean,
                   const double* invstd, const double* gamma, const double* beta, bool relu,
                   bool through_stats, T* dx, double* dgamma, double* dbeta);

  // Needs AVX512_BF16 on top of isa (the bfloat16 build that rounds with vcvtneps2bf16): a CPU
  // feature beyond the ISA levels, checked at run time as they are.
  bool needs_avx512_bf16 = false;
};

std::string_view to_string(CpuIsa isa);  // "avx512", "avx2", "scalar"

// The ISA to_string names, or nullopt for any other text.
std::optional<CpuIsa> cpu_isa_from_string(std::string_view name);

// Whether this CPU has isa (kScalar: always).
bool cpu_supports(CpuIsa isa);

// Whether this CPU has AVX-512 with AVX512_BF16 (Intel Cooper Lake and Sapphire Rapids on, AMD
// Zen 4 on).
bool cpu_has_avx512_bf16();

// Whether this CPU runs k: its ISA, and AVX512_BF16 where k needs it.
template <typename T>
bool cpu_runs(const KernelSet<T>& k);

// The best ISA this CPU has, or the one env BNORM_CPU_ISA=avx512|avx2|scalar forces (tests and
// benchmarks compare paths on one machine). Read once per process. Throws bnorm::Error when the
// variable names an unknown or unsupported ISA, or when BNORM_STREAM_MIN_BYTES is set to anything
// but a whole number of bytes (kernels do not throw, so it is reported here). The process's choice:
// a ScopedCpuIsa (below) does not change it.
CpuIsa selected_cpu_isa();

// Forces isa on the calling thread while it lives, with exactly the semantics BNORM_CPU_ISA=isa
// has for the process: implementations() is capped at isa, and the forced build runs every problem
// (the AVX-512 builds keep row-major problems from memory, which they leave to the AVX2 build when
// nothing is forced). It takes the place of BNORM_CPU_ISA on this thread; the environment is still
// read and checked, so a malformed variable throws as without it. Other threads are not affected.
// The kernel is chosen on the calling thread before a kernel's OpenMP region starts, so the
// region's threads run the forced build too. For the benchmark, which times the default dispatch
// and each forced ISA interleaved in one run; not public API. Nests: the innermost one counts, and
// its end restores the one around it. Throws bnorm::Error when the CPU does not have isa (as
// BNORM_CPU_ISA does). Ends on the thread that made it.
class ScopedCpuIsa {
 public:
  explicit ScopedCpuIsa(CpuIsa isa);
  ~ScopedCpuIsa();
  ScopedCpuIsa(const ScopedCpuIsa&) = delete;
  ScopedCpuIsa& operator=(const ScopedCpuIsa&) = delete;

 private:
  std::optional<CpuIsa> previous_;  // what this thread had forced before
};

// Every implementation, best first, the reference last: for float32 the avx512, avx2 and scalar
// builds of src/kernels/cpu; for bfloat16 the same preceded by the avx512 build that needs
// AVX512_BF16; float64 has only the scalar build (the ISA builds are tuned for float32, and leaving
// float64 out of them halves their compile time).
template <typename T>
std::span<const KernelSet<T>* const> all_implementations();

// The implementations this thread may run, in the same order: those this CPU runs (cpu_runs)
// whose ISA is not above selected_cpu_isa(), or above the ISA a ScopedCpuIsa forces on this
// thread. The reference is always there, last. Throws as selected_cpu_isa.
template <typename T>
std::span<const KernelSet<T>* const> implementations();

// The reference implementation: plain loops, float64 accumulation; supports every problem.
template <typename T>
const KernelSet<T>& reference_kernels();

// The first optimized implementation whose ISA is isa or below and that this CPU runs (float64:
// the scalar build; bfloat16 at kAvx512: the AVX512_BF16 build where the CPU has it), for tests
// that compare the builds; isa must be supported (cpu_supports).
template <typename T>
const KernelSet<T>& cpu_kernels(CpuIsa isa);

}  // namespace bnorm::kernels
