// write_file_atomically and read_regular_file: a replaced file holds exactly the new bytes, no
// temporary file is left behind, and every failure names the path.
#include "io/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bnorm/error.hpp>
#include <filesystem>
#include <fstream>

#include "io/read_file.hpp"
#include "test_util.hpp"

namespace bnorm::io {
namespace {

using test::error_message_of;

struct Dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("bnorm_io_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
       "_" + std::to_string(::getpid()));
  Dir() {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~Dir() { std::filesystem::remove_all(path); }
};

std::string text_of(const std::filesystem::path& p) {
  const std::vector<uint8_t> b = read_regular_file(p, 1 << 20);
  return std::string(b.begin(), b.end());
}

TEST(AtomicFile, ReplacesTheWholeFileAndLeavesNoTemporary) {
  Dir d;
  const auto file = d.path / "summary.json";
  write_file_atomically(file, std::string(10000, 'a'));
  write_file_atomically(file, std::string_view("short"));
  EXPECT_EQ(text_of(file), "short");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path), {}), 1);
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms(0644));
}

TEST(AtomicFile, MissingFolderAndUnwritableTargetNameThePath) {
  Dir d;
  const auto missing = d.path / "no" / "such" / "file";
  EXPECT_NE(error_message_of([&] {
              write_file_atomically(missing, std::string_view("x"));
            }).find(missing.string()),
            std::string::npos);
  // Renaming over a directory fails: the old content (a directory) stays, no temporary is left.
  std::filesystem::create_directories(d.path / "taken");
  EXPECT_NE(error_message_of([&] {
              write_file_atomically(d.path / "taken", std::string_view("x"));
            }).find("rename"),
            std::string::npos);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path), {}), 1);
}

TEST(AtomicFile, WriteErrorIsReported) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  // /dev/full cannot be a rename target's folder, so check the write path through a full device
  // indirectly: a file in a folder we cannot create files in.
  if (::geteuid() == 0) GTEST_SKIP() << "root can write into a read-only folder";
  Dir d;
  std::filesystem::permissions(
      d.path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  EXPECT_NE(error_message_of([&] {
              write_file_atomically(d.path / "f", std::string_view("x"));
            }).find("no temporary file"),
            std::string::npos);
  std::filesystem::permissions(d.path, std::filesystem::perms::owner_all);
}

TEST(ReadRegularFile, RefusesWhatIsNotARegularFileOrTooLarge) {
  Dir d;
  std::filesystem::create_directories(d.path / "dir");
  ASSERT_EQ(::mkfifo((d.path / "fifo").c_str(), 0600), 0);
  write_file_atomically(d.path / "ten", std::string(10, 'x'));
  EXPECT_NE(
      error_message_of([&] { read_regular_file(d.path / "dir", 100); }).find("got a directory"),
      std::string::npos);
  EXPECT_NE(error_message_of([&] { read_regular_file(d.path / "fifo", 100); }).find("got a FIFO"),
            std::string::npos);
  EXPECT_NE(error_message_of([&] {
              read_regular_file(d.path / "ten", 9);
            }).find("expected at most 9 bytes, got a file of 10 bytes"),
            std::string::npos);
  EXPECT_NE(
      error_message_of([&] { read_regular_file(d.path / "none", 9); }).find("does the file exist"),
      std::string::npos);
  EXPECT_EQ(read_regular_file(d.path / "ten", 10).size(), 10u);
  EXPECT_NE(error_message_of([&] { read_regular_file("/dev/null", 9); }).find("got a device"),
            std::string::npos);
}

}  // namespace
}  // namespace bnorm::io
