// A small training run that checkpoints every few steps and resumes from its checkpoint, for the
// SIGKILL test (checkpoint_kill_test.cpp). Usage: checkpoint_trainer <dir> <steps> <every>.
// Resumes from <dir>/ckpt when it exists; writes the final network to <dir>/final.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "checkpoint_run.hpp"
#include "optim/training_checkpoint.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: checkpoint_trainer <dir> <steps> <every>\n");
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    const int64_t steps = std::atoll(argv[2]), every = std::atoll(argv[3]);
    bnorm::robustness::CheckpointRun run;
    const std::string ckpt = (dir / "ckpt").string();
    if (std::filesystem::exists(ckpt)) bnorm::optim::load_training_checkpoint(run.trainer, ckpt);
    while (run.trainer.steps_done() < steps) {
      run.step();
      if (run.trainer.steps_done() % every == 0)
        bnorm::optim::save_training_checkpoint(run.trainer, ckpt);
    }
    bnorm::nn::save_checkpoint(run.mlp.net(), (dir / "final").string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_trainer: %s\n", e.what());
    return 1;
  }
  return 0;
}
