// Which kernels run: kAuto picks the optimized CPU kernels of the best ISA (or BNORM_CPU_ISA's),
// kReference the reference, and the ISA detection agrees with the CPU.
#include <gtest/gtest.h>

#include <bnorm/functional.hpp>
#include <cstdlib>
#include <string>

#include "kernels/cpu/cpu_kernels.hpp"

namespace bnorm::test {
namespace {

using kernels::CpuIsa;

TEST(Dispatch, AutoSelectsTheCpuKernelsOfTheSelectedIsa) {
  const TensorDesc desc{{60, 100}, Layout::kNC};
  const std::string expected =
      "cpu-" + std::string(kernels::to_string(kernels::selected_cpu_isa()));
  EXPECT_EQ(selected_kernel_name<float>(desc, Backend::kAuto), expected);
  EXPECT_EQ(selected_kernel_name<float>(desc, Backend::kOptimized), expected);
  // float64 runs the baseline build of the optimized kernels.
  EXPECT_EQ(selected_kernel_name<double>(desc, Backend::kAuto), std::string("cpu-scalar"));
  EXPECT_EQ(selected_kernel_name<float>(desc, Backend::kReference), std::string("reference"));
}

TEST(Dispatch, SelectedIsaIsSupportedAndHonoursTheEnvironment) {
  const CpuIsa isa = kernels::selected_cpu_isa();
  EXPECT_TRUE(kernels::cpu_supports(isa));
  const char* forced = std::getenv("BNORM_CPU_ISA");
  if (forced != nullptr && *forced != '\0') {
    EXPECT_EQ(kernels::to_string(isa), forced);
  } else if (kernels::cpu_supports(CpuIsa::kAvx512)) {
    EXPECT_EQ(isa, CpuIsa::kAvx512);
  } else if (kernels::cpu_supports(CpuIsa::kAvx2)) {
    EXPECT_EQ(isa, CpuIsa::kAvx2);
  }
}

TEST(Dispatch, DetectionMatchesTheCompilerBuiltins) {
  EXPECT_TRUE(kernels::cpu_supports(CpuIsa::kScalar));
  EXPECT_EQ(kernels::cpu_supports(CpuIsa::kAvx2),
            __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0);
  if (kernels::cpu_supports(CpuIsa::kAvx512)) {
    EXPECT_TRUE(__builtin_cpu_supports("avx512f"));
  }
}

}  // namespace
}  // namespace bnorm::test
