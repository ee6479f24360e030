// Fuzz target: a checkpoint's bytes loaded into a small BN MLP with an extra buffer and counter
// (decode_checkpoint). It must load or throw bnorm::Error; when it throws, the network must be
// unchanged (loading is all or nothing).
#include <bnorm/error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "nn/checkpoint.hpp"
#include "nn/mlp.hpp"

namespace {

bnorm::nn::Mlp mlp(bnorm::nn::MlpOptions{
    .sizes = {3, 4, 2}, .bn = bnorm::nn::BnPlacement::kBefore, .seed = 1});
std::vector<float> momentum(5, 0.5f);
int64_t steps = 7;

bnorm::nn::CheckpointExtras extras() {
  return {.buffers = {{.name = "sgd.momentum", .value = momentum}},
          .counters = {{.name = "trainer.steps_done",
                        .get = [] { return steps; },
                        .set =
                            [](int64_t n) {
                              if (n < 0) throw bnorm::Error("[fuzz] expected steps >= 0");
                              steps = n;
                            }}}};
}

}  // namespace

// With BNORM_FUZZ_WRITE_SEED=<file>, writes this network's valid checkpoint there (the committed
// seed fuzz/corpus/checkpoint/valid was made so) and exits.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* path = std::getenv("BNORM_FUZZ_WRITE_SEED")) {
    std::ofstream(path, std::ios::binary) << bnorm::nn::encode_checkpoint(mlp.net(), extras());
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bnorm::nn::CheckpointExtras extras = ::extras();
  const std::string before = bnorm::nn::encode_checkpoint(mlp.net(), extras);
  try {
    bnorm::nn::decode_checkpoint(
        mlp.net(), std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", extras);
  } catch (const bnorm::Error&) {
    if (bnorm::nn::encode_checkpoint(mlp.net(), extras) != before) __builtin_trap();
  }
  return 0;
}
