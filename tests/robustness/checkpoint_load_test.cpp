// Loading a checkpoint is all or nothing: a file cut anywhere, with a corrupt byte in its last
// entry, or a counter its owner refuses, throws and leaves the network and optimizer unchanged. A
// directory, FIFO or oversized file is an error naming it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bnorm/error.hpp>
#include <filesystem>
#include <fstream>

#include "checkpoint_run.hpp"
#include "optim/training_checkpoint.hpp"
#include "test_util.hpp"

namespace bnorm::robustness {
namespace {

using test::error_message_of;

// Another run a few steps further, whose checkpoint differs from `run` in every entry.
std::string trained_checkpoint() {
  CheckpointRun other;
  for (int i = 0; i < 5; ++i) other.step();
  return nn::encode_checkpoint(other.mlp.net());
}

TEST(CheckpointLoad, EveryTruncationThrowsAndChangesNothing) {
  const std::string bytes = trained_checkpoint();
  CheckpointRun run;
  const std::string before = nn::encode_checkpoint(run.mlp.net());
  for (size_t n = 0; n < bytes.size(); n += (n < 200 || bytes.size() - n < 200) ? 1 : 97) {
    EXPECT_THROW(nn::decode_checkpoint(run.mlp.net(), std::string_view(bytes).substr(0, n), "cut"),
                 Error)
        << "cut at " << n;
    ASSERT_EQ(nn::encode_checkpoint(run.mlp.net()), before) << "cut at " << n;
  }
  nn::decode_checkpoint(run.mlp.net(), bytes, "whole");
  EXPECT_EQ(nn::encode_checkpoint(run.mlp.net()), bytes);
}

TEST(CheckpointLoad, BadLastEntryLeavesEarlierEntriesUnchanged) {
  std::string bytes = trained_checkpoint();
  bytes.back() = 'x';  // the newline closing the last entry
  CheckpointRun run;
  const std::string before = nn::encode_checkpoint(run.mlp.net());
  EXPECT_NE(error_message_of([&] {
              nn::decode_checkpoint(run.mlp.net(), bytes, "bad");
            }).find("got a truncated or corrupt file"),
            std::string::npos);
  EXPECT_EQ(nn::encode_checkpoint(run.mlp.net()), before);
}

// The trainer refuses a negative step count after every other entry was assigned: all of them
// are rolled back.
TEST(CheckpointLoad, RefusedCounterRollsEverythingBack) {
  CheckpointRun saved;
  for (int i = 0; i < 3; ++i) saved.step();
  const auto dir =
      std::filesystem::temp_directory_path() / ("bnorm_ckpt_load_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ckpt").string();
  optim::save_training_checkpoint(saved.trainer, path);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = bytes.rfind("trainer.steps_done i64 1\n");
  ASSERT_NE(at, std::string::npos);
  const int64_t negative = -1;
  bytes.replace(at + 25, 8, reinterpret_cast<const char*>(&negative), 8);
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  CheckpointRun run;
  const std::string before = nn::encode_checkpoint(run.mlp.net());
  EXPECT_NE(error_message_of([&] {
              optim::load_training_checkpoint(run.trainer, path);
            }).find("expected steps >= 0, got -1"),
            std::string::npos);
  EXPECT_EQ(nn::encode_checkpoint(run.mlp.net()), before);
  EXPECT_EQ(run.trainer.steps_done(), 0);
  std::filesystem::remove_all(dir);
}

TEST(CheckpointLoad, NonRegularAndOversizedFilesAreRefused) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("bnorm_ckpt_files_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "subdir");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  CheckpointRun run;
  EXPECT_NE(error_message_of([&] {
              nn::load_checkpoint(run.mlp.net(), (dir / "subdir").string());
            }).find("got a directory"),
            std::string::npos);
  EXPECT_NE(error_message_of([&] {
              nn::load_checkpoint(run.mlp.net(), (dir / "fifo").string());
            }).find("got a FIFO"),
            std::string::npos);
  { std::ofstream touch(dir / "huge"); }
  std::filesystem::resize_file(dir / "huge", size_t{1} << 30);
  EXPECT_NE(error_message_of([&] {
              nn::load_checkpoint(run.mlp.net(), (dir / "huge").string());
            }).find("expected at most"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bnorm::robustness
