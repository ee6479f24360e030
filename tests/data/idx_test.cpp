// IDX reader and writer against files built byte by byte in the test: the exact header layout,
// plain and gzip, and every way a file can be broken, each error naming the file.
#include "data/idx.hpp"

#include <gtest/gtest.h>

#include <bnorm/error.hpp>
#include <fstream>

#include "temp_dir.hpp"

namespace bnorm::data {
namespace {

using test::expect_error;
using test::TempDir;
using Bytes = std::vector<uint8_t>;

void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
  write_file(path, bytes, Compression::kNone);
}

Bytes read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Header for 3 images of 2x2, then `data_bytes` bytes 0, 1, 2, ...
Bytes images_3x2x2(size_t data_bytes) {
  Bytes b = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

TEST(Idx, EncodesTheHeaderBigEndian) {
  const IdxArray a{.dims = {2, 300}, .data = Bytes(600, 7)};
  const Bytes b = encode_idx(a);
  const Bytes header = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0x01, 0x2c};
  ASSERT_EQ(b.size(), 12u + 600u);
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 12), header);
}

TEST(Idx, ReadsHandMadePlainFile) {
  TempDir tmp;
  write_bytes(tmp.path() / "a.idx", images_3x2x2(12));
  const IdxArray a = read_idx(tmp.path() / "a.idx");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 2}));
  ASSERT_EQ(a.data.size(), 12u);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(a.data[i], i);
}

TEST(Idx, RoundTripsPlainAndGzip) {
  TempDir tmp;
  IdxArray a{.dims = {5, 3}, .data = {}};
  for (int i = 0; i < 15; ++i) a.data.push_back(static_cast<uint8_t>(i * 17));
  write_idx(tmp.path() / "plain", a, Compression::kNone);
  write_idx(tmp.path() / "packed", a, Compression::kGzip);
  const Bytes packed = read_bytes(tmp.path() / "packed");
  ASSERT_GE(packed.size(), 2u);
  EXPECT_EQ(packed[0], 0x1f);
  EXPECT_EQ(packed[1], 0x8b);
  EXPECT_EQ(read_bytes(tmp.path() / "plain"), encode_idx(a));
  for (const char* name : {"plain", "packed"}) {
    const IdxArray b = read_idx(tmp.path() / name);
    EXPECT_EQ(b.dims, a.dims) << name;
    EXPECT_EQ(b.data, a.data) << name;
  }
}

TEST(Idx, DetectsGzipByMagicNotName) {
  TempDir tmp;
  const IdxArray a{.dims = {4}, .data = {1, 2, 3, 4}};
  write_idx(tmp.path() / "gzipped.idx", a, Compression::kGzip);
  write_idx(tmp.path() / "plain.gz", a, Compression::kNone);
  EXPECT_EQ(read_idx(tmp.path() / "gzipped.idx").data, a.data);
  EXPECT_EQ(read_idx(tmp.path() / "plain.gz").data, a.data);
}

TEST(Idx, ReadsConcatenatedGzipMembers) {
  TempDir tmp;
  const Bytes whole = images_3x2x2(12);
  write_file(tmp.path() / "p1", Bytes(whole.begin(), whole.begin() + 9), Compression::kGzip);
  write_file(tmp.path() / "p2", Bytes(whole.begin() + 9, whole.end()), Compression::kGzip);
  Bytes joined = read_bytes(tmp.path() / "p1");
  const Bytes second = read_bytes(tmp.path() / "p2");
  joined.insert(joined.end(), second.begin(), second.end());
  write_bytes(tmp.path() / "joined.gz", joined);
  EXPECT_EQ(read_idx(tmp.path() / "joined.gz").data, Bytes(whole.begin() + 16, whole.end()));
}

TEST(Idx, RejectsBadMagic) {
  TempDir tmp;
  Bytes b = images_3x2x2(12);
  b[0] = 0x50;  // e.g. a PNG or text file
  write_bytes(tmp.path() / "bad", b);
  expect_error([&] { read_idx(tmp.path() / "bad"); },
               {(tmp.path() / "bad").string(), "bad magic", "0x50 0x00"});
}

TEST(Idx, RejectsOtherElementTypes) {
  TempDir tmp;
  Bytes b = images_3x2x2(12);
  b[2] = 0x0D;
  write_bytes(tmp.path() / "float", b);
  expect_error([&] { read_idx(tmp.path() / "float"); },
               {(tmp.path() / "float").string(), "0x0d (float32)", "only 0x08 (ubyte)"});
}

TEST(Idx, RejectsBadNumberOfDims) {
  TempDir tmp;
  write_bytes(tmp.path() / "zero", {0, 0, 0x08, 0});
  expect_error([&] { read_idx(tmp.path() / "zero"); },
               {(tmp.path() / "zero").string(), "number of dimensions", "got 0"});
  write_bytes(tmp.path() / "many", {0, 0, 0x08, 200});
  expect_error([&] { read_idx(tmp.path() / "many"); }, {"got 200"});
}

TEST(Idx, RejectsZeroDimension) {
  TempDir tmp;
  write_bytes(tmp.path() / "z", {0, 0, 0x08, 2, 0, 0, 0, 4, 0, 0, 0, 0});
  expect_error([&] { read_idx(tmp.path() / "z"); }, {(tmp.path() / "z").string(), "4x0"});
}

TEST(Idx, RejectsTruncatedHeader) {
  TempDir tmp;
  write_bytes(tmp.path() / "short", {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0});
  expect_error([&] { read_idx(tmp.path() / "short"); },
               {(tmp.path() / "short").string(), "truncated", "needs 16 bytes, file has 10"});
  write_bytes(tmp.path() / "tiny", {0, 0});
  expect_error([&] { read_idx(tmp.path() / "tiny"); }, {"truncated"});
}

TEST(Idx, RejectsTruncatedData) {
  TempDir tmp;
  write_bytes(tmp.path() / "t", images_3x2x2(10));
  expect_error(
      [&] { read_idx(tmp.path() / "t"); },
      {(tmp.path() / "t").string(), "truncated: header says 3x2x2 = 12 bytes, file has 10"});
}

TEST(Idx, RejectsTrailingBytes) {
  TempDir tmp;
  write_file(tmp.path() / "t.gz", images_3x2x2(13), Compression::kGzip);
  expect_error([&] { read_idx(tmp.path() / "t.gz"); },
               {(tmp.path() / "t.gz").string(),
                "trailing bytes: header says 3x2x2 = 12 bytes, "
                "file has 13"});
}

TEST(Idx, RejectsTruncatedGzip) {
  TempDir tmp;
  write_file(tmp.path() / "full.gz", images_3x2x2(12), Compression::kGzip);
  Bytes b = read_bytes(tmp.path() / "full.gz");
  ASSERT_GT(b.size(), 18u);
  b.erase(b.end() - 6, b.end());  // cut into the CRC/length trailer
  write_bytes(tmp.path() / "cut.gz", b);
  expect_error([&] { read_idx(tmp.path() / "cut.gz"); },
               {(tmp.path() / "cut.gz").string(), "truncated gzip"});
}

TEST(Idx, RejectsGzipWithBadChecksum) {
  TempDir tmp;
  write_file(tmp.path() / "full.gz", images_3x2x2(12), Compression::kGzip);
  Bytes b = read_bytes(tmp.path() / "full.gz");
  b[b.size() - 8] ^= 0xff;  // first byte of the CRC32
  write_bytes(tmp.path() / "crc.gz", b);
  expect_error([&] { read_idx(tmp.path() / "crc.gz"); },
               {(tmp.path() / "crc.gz").string(), "corrupt gzip"});
}

TEST(Idx, RejectsGarbageAfterGzip) {
  TempDir tmp;
  write_file(tmp.path() / "full.gz", images_3x2x2(12), Compression::kGzip);
  Bytes b = read_bytes(tmp.path() / "full.gz");
  b.insert(b.end(), {1, 2, 3});
  write_bytes(tmp.path() / "junk.gz", b);
  expect_error([&] { read_idx(tmp.path() / "junk.gz"); },
               {(tmp.path() / "junk.gz").string(), "3 bytes after the end of the gzip stream"});
}

TEST(Idx, MissingFileNamesThePath) {
  TempDir tmp;
  expect_error([&] { read_idx(tmp.path() / "nope.gz"); },
               {(tmp.path() / "nope.gz").string(), "cannot open"});
}

TEST(Idx, WriterRejectsDimsThatDoNotMatchTheData) {
  expect_error(
      [] {
        encode_idx({.dims = {2, 3}, .data = Bytes(5)});
      },
      {"expected 6 data bytes for dims 2x3, got 5"});
  expect_error([] { encode_idx({.dims = {}, .data = {}}); }, {"got 0"});
  expect_error([] { encode_idx({.dims = {0}, .data = {}}); }, {"every dim"});
}

}  // namespace
}  // namespace bnorm::data
