// Chooses a kernel implementation: optimized ones in order of preference, the reference last.
#include "bnorm/error.hpp"
#include "kernels/cpu/cpu_kernels.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::kernels {

template <typename T>
const KernelSet<T>& select_kernels(const Extents& e, Backend backend) {
  if (backend != Backend::kReference) {
    // Optimized implementations, best first: the CPU kernels for the ISA chosen at run time.
    const KernelSet<T>* optimized[] = {&cpu_kernels<T>(selected_cpu_isa())};
    for (const KernelSet<T>* k : optimized) {
      if (k != nullptr && k->supports(e)) return *k;
    }
    if (backend == Backend::kOptimized) {
      throw Error(
          "[batch_norm] expected an optimized kernel for this problem, got none: use "
          "Backend::kAuto or Backend::kReference");
    }
  }
  return reference_kernels<T>();
}

template const KernelSet<float>& select_kernels<float>(const Extents&, Backend);
template const KernelSet<double>& select_kernels<double>(const Extents&, Backend);

}  // namespace bnorm::kernels
