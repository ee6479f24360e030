// Bitwise determinism: the optimized kernels cut work into items fixed by the shape and merge
// partial sums in item order, so 1, 2 and 3 threads must give identical bits. The shapes are
// large enough to run multi-threaded, in every layout, including a channel split into items.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <vector>

#include "kernel_case.hpp"
#include "kernels/kernels.hpp"

namespace bnorm::test {
namespace {

using kernels::CpuIsa;

// Every output of every op (fused relu on and off) for one case, as raw bytes.
std::vector<unsigned char> all_outputs(const kernels::KernelSet<float>& k, const KernelCase& kc) {
  const KernelInputs<float> in(kc);
  std::vector<unsigned char> bytes;
  const auto append = [&](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    bytes.insert(bytes.end(), b, b + n);
  };
  for (bool relu : {false, true}) {
    const auto train = run_forward_train(k, kc, in, relu);
    append(train.y.data(), train.y.size() * sizeof(float));
    append(train.moments.data(), train.moments.size() * sizeof(Moments));
    append(train.invstd.data(), train.invstd.size() * sizeof(double));
    const auto infer = run_forward_infer(k, kc, in, relu);
    append(infer.data(), infer.size() * sizeof(float));
    for (bool through : {true, false}) {
      const auto back = run_backward(k, kc, in, in.dy, relu, through, true);
      append(back.dx.data(), back.dx.size() * sizeof(float));
      append(back.dgamma.data(), back.dgamma.size() * sizeof(double));
      append(back.dbeta.data(), back.dbeta.size() * sizeof(double));
    }
  }
  return bytes;
}

class Determinism : public testing::TestWithParam<CpuIsa> {};

TEST_P(Determinism, OneTwoAndThreeThreadsGiveIdenticalBits) {
  if (!kernels::cpu_supports(GetParam())) GTEST_SKIP() << "ISA not supported by this CPU";
  const auto& k = kernels::cpu_kernels<float>(GetParam());
  const std::vector<KernelCase> cases = {
      {{.n = 300, .c = 257, .s = 1, .layout = Layout::kNC}, 1},
      {{.n = 150, .c = 1100, .s = 1, .layout = Layout::kNC}, 7},  // items of kMinItemRows rows
      {{.n = 40, .c = 2000, .s = 1, .layout = Layout::kNC}, 8},   // two items of half the rows
      {{.n = 8, .c = 40, .s = 225, .layout = Layout::kChannelsLast}, 2},
      {{.n = 4, .c = 70, .s = 1000, .layout = Layout::kChannelsLast}, 6},  // rows in memory order
      {{.n = 32, .c = 16, .s = 144, .layout = Layout::kChannelsFirst}, 3},
      {{.n = 4, .c = 70, .s = 300, .layout = Layout::kChannelsFirst}, 5},    // channel groups
      {{.n = 6, .c = 1, .s = 50000, .layout = Layout::kChannelsFirst}, 4},   // split channel
      {{.n = 86, .c = 250, .s = 196, .layout = Layout::kChannelsFirst}, 9},  // from memory
  };
  const int saved = omp_get_max_threads();
  for (const KernelCase& kc : cases) {
    omp_set_num_threads(1);
    const auto one = all_outputs(k, kc);
    for (int threads : {2, 3}) {
      omp_set_num_threads(threads);
      const auto many = all_outputs(k, kc);
      ASSERT_EQ(one.size(), many.size());
      EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size()), 0)
          << k.name << " " << kc.name() << ": " << threads << " threads differ from 1";
    }
  }
  omp_set_num_threads(saved);
}

INSTANTIATE_TEST_SUITE_P(Isa, Determinism,
                         testing::Values(CpuIsa::kScalar, CpuIsa::kAvx2, CpuIsa::kAvx512),
                         [](const testing::TestParamInfo<CpuIsa>& info) {
                           return std::string(kernels::to_string(info.param));
                         });

}  // namespace
}  // namespace bnorm::test
