// Data files as a careless or hostile user may leave them: a directory or FIFO where a file
// should be (an error naming it, never a hang), a gzip bomb (stopped at what the IDX header
// promises, never an out-of-memory abort), a file larger than bnorm reads.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bnorm/error.hpp>
#include <fstream>

#include "data/dataset.hpp"
#include "data/idx.hpp"
#include "temp_dir.hpp"

namespace bnorm::data {
namespace {

using test::expect_error;
using test::TempDir;
using Bytes = std::vector<uint8_t>;

// An IDX header for `count` images of 2x2, then `data_bytes` zero bytes.
Bytes idx_images(uint32_t count, size_t data_bytes) {
  Bytes b = {0,
             0,
             0x08,
             3,
             uint8_t(count >> 24),
             uint8_t(count >> 16),
             uint8_t(count >> 8),
             uint8_t(count),
             0,
             0,
             0,
             2,
             0,
             0,
             0,
             2};
  b.resize(b.size() + data_bytes, 0);
  return b;
}

TEST(HostileFiles, DirectoryIsAnErrorNamingIt) {
  TempDir dir;
  const auto path = dir.path() / "train-images-idx3-ubyte.gz";
  std::filesystem::create_directories(path);
  expect_error([&] { read_idx(path); },
               {path.string(), "expected a regular file, got a directory"});
}

TEST(HostileFiles, FifoIsAnErrorAndDoesNotBlock) {
  TempDir dir;
  const auto path = dir.path() / "fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  expect_error([&] { read_idx(path); }, {path.string(), "got a FIFO"});
}

TEST(HostileFiles, DatasetFolderWithADirectoryForAFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "mnist" / "train-images-idx3-ubyte.gz");
  write_idx(dir.path() / "mnist" / "train-labels-idx1-ubyte.gz", {.dims = {1}, .data = {3}});
  expect_error([&] { load_dataset("mnist", Split::kTrain, dir.path()); },
               {"train-images-idx3-ubyte.gz", "a directory"});
}

// 64 MB of zeros gzip to ~64 KB, under a header promising 1 image of 2x2 (4 bytes): decompression
// stops after one buffer with an error, instead of inflating everything.
TEST(HostileFiles, GzipBombStopsAtTheHeadersSize) {
  TempDir dir;
  const auto path = dir.path() / "bomb.gz";
  write_file(path, idx_images(1, size_t{16} << 20), Compression::kGzip);
  EXPECT_LT(std::filesystem::file_size(path), size_t{1} << 20);
  expect_error([&] { read_idx(path); }, {path.string(), "expected at most 4116 bytes",
                                         "what its header promises", "decompression bomb"});
}

TEST(HostileFiles, GzippedHeaderIsCheckedBeforeTheData) {
  TempDir dir;
  const auto path = dir.path() / "bad.gz";
  Bytes b = idx_images(1, size_t{8} << 20);
  b[2] = 0x0D;  // float32: unsupported, found from the first bytes inflated
  write_file(path, b, Compression::kGzip);
  expect_error([&] { read_idx(path); }, {path.string(), "unsupported IDX element type 0x0d"});
}

TEST(HostileFiles, ExactGzipSizeStillReads) {
  TempDir dir;
  const auto path = dir.path() / "ok.gz";
  write_file(path, idx_images(3, 12), Compression::kGzip);
  EXPECT_EQ(read_idx(path).data.size(), 12u);
  write_file(path, idx_images(3, 13), Compression::kGzip);  // one byte more than promised
  expect_error([&] { read_idx(path); }, {"trailing bytes"});
  write_file(path, idx_images(3, 12 + kIdxTrailingSlack + 1), Compression::kGzip);
  expect_error([&] { read_idx(path); }, {"expected at most 4124 bytes"});
}

// A sparse file just over the limit: refused from its size, before any byte is read.
TEST(HostileFiles, FileOverTheLimitIsRefusedUnread) {
  TempDir dir;
  const auto path = dir.path() / "huge";
  { std::ofstream touch(path); }
  std::filesystem::resize_file(path, kMaxDataFileBytes + 1);
  expect_error([&] { read_idx(path); }, {path.string(), "expected at most 1073741824 bytes"});
}

TEST(HostileFiles, SizeBoundComesFromTheHeader) {
  const Bytes b = idx_images(5, 0);
  EXPECT_EQ(idx_size_bound(std::span(b).first(3), "x"), SIZE_MAX);
  EXPECT_EQ(idx_size_bound(std::span(b).first(10), "x"), SIZE_MAX);
  EXPECT_EQ(idx_size_bound(b, "x"), 16u + 20u + kIdxTrailingSlack);
  Bytes zero = b;
  zero[7] = 0;
  expect_error([&] { idx_size_bound(zero, "x"); }, {"contain a 0"});
}

}  // namespace
}  // namespace bnorm::data
