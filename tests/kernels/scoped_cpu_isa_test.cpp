// kernels::ScopedCpuIsa: forcing an ISA on one thread does what BNORM_CPU_ISA=<isa> does for the
// process (that build runs every problem, row-major ones from memory included), only on that
// thread and only while it lives. CTest also runs these under BNORM_CPU_ISA=scalar and =avx512,
// where the scope takes the variable's place and its end gives the variable's choice back.
#include <gtest/gtest.h>

#include <bnorm/error.hpp>
#include <bnorm/functional.hpp>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "kernels/kernels.hpp"

namespace bnorm::test {
namespace {

using kernels::CpuIsa;

constexpr CpuIsa kAllIsas[] = {CpuIsa::kAvx512, CpuIsa::kAvx2, CpuIsa::kScalar};

// What dispatch picks (kAuto) on a small N x C problem, a channels-last one from memory (25.7 MB
// of float, which the AVX-512 builds leave to AVX2 unless an ISA is forced) and a channels-first
// one of the same size, in float32 and bfloat16.
struct Picks {
  std::string small, big_nhwc, big_nchw, small_bf16, big_nhwc_bf16;
  bool operator==(const Picks&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Picks& p) {
  return out << "{" << p.small << ", " << p.big_nhwc << ", " << p.big_nchw << ", " << p.small_bf16
             << ", " << p.big_nhwc_bf16 << "}";
}

const TensorDesc kSmall{{60, 100}, Layout::kNC};
const TensorDesc kBigNhwc{{32, 64, 56, 56}, Layout::kChannelsLast};
const TensorDesc kBigNchw{{32, 64, 56, 56}, Layout::kChannelsFirst};

Picks picks() {
  return {selected_kernel_name<float>(kSmall, Backend::kAuto),
          selected_kernel_name<float>(kBigNhwc, Backend::kAuto),
          selected_kernel_name<float>(kBigNchw, Backend::kAuto),
          selected_kernel_name<bfloat16>(kSmall, Backend::kAuto),
          selected_kernel_name<bfloat16>(kBigNhwc, Backend::kAuto)};
}

// With isa forced (by the variable or a scope): its build on every problem.
Picks forced_picks(CpuIsa isa) {
  const std::string f = kernels::cpu_kernels<float>(isa).name;
  const std::string b = kernels::cpu_kernels<bfloat16>(isa).name;
  return {f, f, f, b, b};
}

// BNORM_CPU_ISA, when it names an ISA.
std::optional<CpuIsa> environment_isa() {
  const char* v = std::getenv("BNORM_CPU_ISA");
  return v != nullptr && *v != '\0' ? kernels::cpu_isa_from_string(v) : std::nullopt;
}

// What the process picks without a scope: the variable's ISA on every problem, or the best ISA
// with the AVX2 build on the row-major problem from memory where the best is AVX-512 (bfloat16:
// only without AVX512_BF16).
Picks default_picks() {
  if (const auto isa = environment_isa()) return forced_picks(*isa);
  const CpuIsa best = kernels::selected_cpu_isa();
  Picks p = forced_picks(best);
  if (best == CpuIsa::kAvx512) {
    p.big_nhwc = "cpu-avx2";
    // The AVX512_BF16 build keeps row-major bfloat16 from memory; the AVX-512F one does not.
    if (!kernels::cpu_has_avx512_bf16()) p.big_nhwc_bf16 = "cpu-avx2";
  }
  return p;
}

// BNORM_CPU_ISA=avx512 on a CPU without it makes every call throw: nothing to compare.
bool environment_unusable() {
  const auto isa = environment_isa();
  return isa && !kernels::cpu_supports(*isa);
}

TEST(ScopedCpuIsa, ForcesEachIsaTheCpuHasOnEveryProblem) {
  if (environment_unusable()) GTEST_SKIP() << "BNORM_CPU_ISA names an ISA this CPU lacks";
  int forced = 0;
  for (CpuIsa isa : kAllIsas) {
    if (!kernels::cpu_supports(isa)) continue;
    const kernels::ScopedCpuIsa scope(isa);
    EXPECT_EQ(picks(), forced_picks(isa)) << kernels::to_string(isa);
    EXPECT_EQ(selected_kernel_name<float>(kSmall, Backend::kAuto),
              "cpu-" + std::string(kernels::to_string(isa)));
    const auto runnable = kernels::implementations<float>();
    ASSERT_FALSE(runnable.empty());
    EXPECT_EQ(runnable.front()->isa, isa) << kernels::to_string(isa);
    EXPECT_EQ(runnable.back(), &kernels::reference_kernels<float>());
    // Forcing changes the kernel choice, not the backends' meaning.
    EXPECT_EQ(selected_kernel_name<float>(kSmall, Backend::kReference), std::string("reference"));
    ++forced;
  }
  EXPECT_GE(forced, 1);  // scalar at least
}

TEST(ScopedCpuIsa, EndingGivesBackWhatWasThereNestedOrNot) {
  if (environment_unusable()) GTEST_SKIP() << "BNORM_CPU_ISA names an ISA this CPU lacks";
  const Picks before = picks();
  EXPECT_EQ(before, default_picks());
  {
    const kernels::ScopedCpuIsa outer(CpuIsa::kScalar);
    if (kernels::cpu_supports(CpuIsa::kAvx2)) {
      const kernels::ScopedCpuIsa inner(CpuIsa::kAvx2);
      EXPECT_EQ(picks(), forced_picks(CpuIsa::kAvx2));
    }
    EXPECT_EQ(picks(), forced_picks(CpuIsa::kScalar));
  }
  EXPECT_EQ(picks(), before);
  EXPECT_EQ(kernels::implementations<float>().front()->isa, kernels::selected_cpu_isa());
}

TEST(ScopedCpuIsa, OtherThreadsKeepTheProcessChoice) {
  if (environment_unusable()) GTEST_SKIP() << "BNORM_CPU_ISA names an ISA this CPU lacks";
  const Picks before = picks();
  const kernels::ScopedCpuIsa scope(CpuIsa::kScalar);
  Picks other;
  std::thread([&] { other = picks(); }).join();
  EXPECT_EQ(other, before);
  EXPECT_EQ(picks(), forced_picks(CpuIsa::kScalar));
}

TEST(ScopedCpuIsa, AnIsaTheCpuLacksIsRefusedAndChangesNothing) {
  if (environment_unusable()) GTEST_SKIP() << "BNORM_CPU_ISA names an ISA this CPU lacks";
  const Picks before = picks();
  int refused = 0;
  for (CpuIsa isa : kAllIsas) {
    if (kernels::cpu_supports(isa)) continue;
    try {
      const kernels::ScopedCpuIsa scope(isa);
      ADD_FAILURE() << "forced " << kernels::to_string(isa);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(kernels::to_string(isa)), std::string::npos) << e.what();
    }
    EXPECT_EQ(picks(), before);
    ++refused;
  }
  if (refused == 0) GTEST_SKIP() << "this CPU has every ISA, none to refuse";
}

TEST(ScopedCpuIsa, IsaNamesRoundTrip) {
  for (CpuIsa isa : kAllIsas) {
    EXPECT_EQ(kernels::cpu_isa_from_string(kernels::to_string(isa)), isa);
  }
  for (const char* bad : {"", "AVX2", "avx512f", "sse", "avx2 "}) {
    EXPECT_EQ(kernels::cpu_isa_from_string(bad), std::nullopt) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace bnorm::test
