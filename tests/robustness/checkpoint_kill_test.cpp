// A training run killed with SIGKILL at 20 random moments: after every kill the checkpoint on disk
// loads, and the run resumed from it to the end gives bit for bit the final network of a run never
// interrupted. Kill moments are random (the seed is printed).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "checkpoint_run.hpp"
#include "optim/training_checkpoint.hpp"

namespace bnorm::robustness {
namespace {

constexpr const char* kSteps = "400";
constexpr const char* kEvery = "3";

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t start_trainer(const std::filesystem::path& dir) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string d = dir.string();
    ::execl(BNORM_CHECKPOINT_TRAINER, BNORM_CHECKPOINT_TRAINER, d.c_str(), kSteps, kEvery,
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bnorm_kill_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(CheckpointKill, EveryCheckpointLoadsAndResumingIsBitwiseTheSame) {
  const auto whole = fresh_dir("whole"), killed = fresh_dir("killed");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit_code(start_trainer(whole)), 0);
  const auto full = std::chrono::steady_clock::now() - t0;
  const std::string expected = slurp(whole / "final");
  ASSERT_FALSE(expected.empty());

  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  // Each resumed run goes on from the last checkpoint, so kills within the first fortieth of the
  // run's duration (an eightieth on average) leave 20 kills well before its end.
  std::uniform_int_distribution<int64_t> moment(
      0, std::chrono::duration_cast<std::chrono::microseconds>(full).count() / 40);
  int loaded = 0, kills = 0;
  for (int kill = 0; kill < 20; ++kill, ++kills) {
    const pid_t pid = start_trainer(killed);
    // The first kill waits for the first checkpoint, so that a loaded machine (a slow start) still
    // leaves one to check; later kills may land anywhere, the start included.
    for (int ms = 0; kill == 0 && ms < 60000 && !std::filesystem::exists(killed / "ckpt"); ++ms)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::microseconds(moment(rng)));
    ::kill(pid, SIGKILL);
    wait_exit_code(pid);
    if (std::filesystem::exists(killed / "final")) break;  // it finished before the kill
    if (!std::filesystem::exists(killed / "ckpt")) continue;
    CheckpointRun check;
    ASSERT_NO_THROW(optim::load_training_checkpoint(check.trainer, (killed / "ckpt").string()))
        << "kill " << kill << ", seed " << seed;
    ++loaded;
  }
  std::filesystem::remove(killed / "final");
  ASSERT_EQ(wait_exit_code(start_trainer(killed)), 0);
  EXPECT_TRUE(slurp(killed / "final") == expected)
      << "the resumed run's final network differs from the uninterrupted one (seed " << seed << ")";
  std::printf("%d of %d kills left a checkpoint, each loaded (seed %u)\n", loaded, kills, seed);
  EXPECT_GT(loaded, 0) << "no kill came after the first checkpoint: nothing was tested";
  std::filesystem::remove_all(whole);
  std::filesystem::remove_all(killed);
}

}  // namespace
}  // namespace bnorm::robustness
