// Which kernels run: kAuto picks the optimized CPU kernels of the best ISA (or BNORM_CPU_ISA's),
// kReference the reference, and the ISA detection agrees with the CPU.
#include <gtest/gtest.h>

#include <bnorm/error.hpp>
#include <bnorm/functional.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cpu/scratch.hpp"
#include "kernels/kernels.hpp"

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

// Row-major problems larger than tuning::kWideRowMajorMaxBytes run the AVX2 build on AVX-512
// machines, unless BNORM_CPU_ISA forces an ISA; channels-first ones keep the AVX-512 build.
TEST(Dispatch, RowMajorFromMemoryPrefersTheAvx2BuildUnlessForced) {
  const TensorDesc nhwc{{32, 64, 56, 56}, Layout::kChannelsLast};  // 25.7 MB of float
  const TensorDesc nchw{{32, 64, 56, 56}, Layout::kChannelsFirst};
  const TensorDesc small_nhwc{{8, 64, 16, 16}, Layout::kChannelsLast};
  const char* forced = std::getenv("BNORM_CPU_ISA");
  if (forced != nullptr && std::string(forced) == "avx512" &&
      !kernels::cpu_supports(CpuIsa::kAvx512)) {
    GTEST_SKIP() << "BNORM_CPU_ISA=avx512 on a CPU without AVX-512";
  }
  const std::string selected =
      "cpu-" + std::string(kernels::to_string(kernels::selected_cpu_isa()));
  const bool wide_default =
      kernels::selected_cpu_isa() == CpuIsa::kAvx512 && (forced == nullptr || *forced == '\0');
  EXPECT_EQ(selected_kernel_name<float>(nhwc, Backend::kAuto),
            wide_default ? std::string("cpu-avx2") : selected);
  EXPECT_EQ(selected_kernel_name<float>(nhwc, Backend::kOptimized),
            wide_default ? std::string("cpu-avx2") : selected);
  EXPECT_EQ(selected_kernel_name<float>(nchw, Backend::kAuto), selected);
  EXPECT_EQ(selected_kernel_name<float>(small_nhwc, Backend::kAuto), selected);
}

// bfloat16: the AVX512_BF16 build keeps row-major problems from memory, where the AVX-512F build
// leaves them to the AVX2 build as for float32.
TEST(Dispatch, RowMajorBfloat16FromMemoryStaysOnTheAvx512Bf16Build) {
  const TensorDesc nhwc{{32, 64, 56, 56}, Layout::kChannelsLast};  // 12.8 MB of bfloat16
  const char* forced = std::getenv("BNORM_CPU_ISA");
  const bool is_forced = forced != nullptr && *forced != '\0';
  const CpuIsa isa = kernels::selected_cpu_isa();
  std::string expected = "cpu-" + std::string(kernels::to_string(isa));
  if (isa == CpuIsa::kAvx512 && kernels::cpu_has_avx512_bf16()) {
    expected = "cpu-avx512-bf16";
  } else if (isa == CpuIsa::kAvx512 && !is_forced) {
    expected = "cpu-avx2";
  }
  EXPECT_EQ(selected_kernel_name<bfloat16>(nhwc, Backend::kAuto), expected);
}

// The list is ordered best first with the reference last; what may run is the part of it this
// CPU has, capped by the selected ISA, and still ends with the reference.
template <typename T>
void expect_ordered_list() {
  const auto all = kernels::all_implementations<T>();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), &kernels::reference_kernels<T>());
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LE(all[i - 1]->isa, all[i]->isa) << i;
  const auto runnable = kernels::implementations<T>();
  ASSERT_FALSE(runnable.empty());
  EXPECT_EQ(runnable.back(), &kernels::reference_kernels<T>());
  for (const kernels::KernelSet<T>* k : runnable) {
    EXPECT_TRUE(kernels::cpu_supports(k->isa)) << k->name;
    EXPECT_GE(k->isa, kernels::selected_cpu_isa()) << k->name;  // at or below the selected ISA
  }
  size_t skipped = 0;  // every entry of the full list the CPU has, at or below the selected ISA
  for (const kernels::KernelSet<T>* k : all) {
    skipped += kernels::cpu_supports(k->isa) && k->isa >= kernels::selected_cpu_isa() ? 0 : 1;
  }
  EXPECT_EQ(runnable.size() + skipped, all.size());
}

TEST(Dispatch, ImplementationsAreOrderedWithTheReferenceLast) {
  expect_ordered_list<float>();
  expect_ordered_list<double>();
  std::vector<std::string> names;
  for (const auto* k : kernels::all_implementations<float>()) names.emplace_back(k->name);
  EXPECT_EQ(names, (std::vector<std::string>{"cpu-avx512", "cpu-avx2", "cpu-scalar", "reference"}));
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

// BNORM_STREAM_MIN_BYTES: unset means the default; a malformed value is an error that names the
// variable, not a threshold of 0 (stream everything) or the default in disguise.
TEST(StreamThreshold, ParsesWholeByteCountsAndRejectsEverythingElse) {
  EXPECT_EQ(kernels::parse_stream_min_bytes(nullptr), -1);
  EXPECT_EQ(kernels::parse_stream_min_bytes(""), -1);
  EXPECT_EQ(kernels::parse_stream_min_bytes("0"), 0);
  EXPECT_EQ(kernels::parse_stream_min_bytes("8388608"), 8388608);
  for (const char* bad :
       {"16MiB", "-1", "1e6", "x", "12 ", " 12", "+12", "99999999999999999999999"}) {
    try {
      kernels::parse_stream_min_bytes(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("BNORM_STREAM_MIN_BYTES"), std::string::npos) << bad;
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

// Run by CTest with BNORM_STREAM_MIN_BYTES=16MiB (Kernels.malformed_stream_threshold): a call that
// would reach the optimized kernels reports the variable (at dispatch) instead of running with a
// guessed value.
TEST(StreamThreshold, MalformedEnvironmentStopsTheCall) {
  const char* value = std::getenv("BNORM_STREAM_MIN_BYTES");
  if (value == nullptr || std::string(value) != "16MiB") {
    GTEST_SKIP() << "runs under BNORM_STREAM_MIN_BYTES=16MiB only";
  }
  const TensorDesc desc{.dims = {4, 3}, .layout = Layout::kNC};
  std::vector<float> x(12, 1.0f), y(12), gamma(3, 1.0f), beta(3, 0.0f);
  std::vector<Moments> moments(3);
  try {
    batch_norm_forward_train<float>(x, desc, gamma, beta, 1e-5, y, moments, Backend::kOptimized);
    ADD_FAILURE() << "the call ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("BNORM_STREAM_MIN_BYTES"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bnorm::test
