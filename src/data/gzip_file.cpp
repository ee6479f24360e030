// gzip via zlib's inflate/deflate on whole buffers: the files here are at most ~50 MB unpacked,
// so reading everything at once is simpler than streaming and just as fast.
#include "data/gzip_file.hpp"

#include <zlib.h>

#include <bnorm/error.hpp>
#include <cstdint>
#include <fstream>
#include <string>

namespace bnorm::data {
namespace {

std::string where(const std::filesystem::path& path) { return path.string() + ": "; }

std::vector<uint8_t> read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(where(path) + "cannot open for reading (does the file exist?)");
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(where(path) + "cannot tell the file size (not a regular file?)");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) throw Error(where(path) + "read error");
  return bytes;
}

bool has_gzip_magic(std::span<const uint8_t> bytes, size_t at = 0) {
  return bytes.size() >= at + 2 && bytes[at] == 0x1f && bytes[at + 1] == 0x8b;
}

// Inflates every gzip member of `in` back to back into one buffer.
std::vector<uint8_t> gunzip(std::span<const uint8_t> in, const std::filesystem::path& path) {
  if (in.size() > UINT32_MAX)  // zlib counts input in 32-bit uInt; our files are < 50 MB
    throw Error(where(path) + "gzip file over 4 GiB is not supported");
  z_stream z{};
  // 15 + 16: gzip wrapper only (a zlib or raw deflate stream is not what we detected).
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw Error(where(path) + "zlib inflateInit2 failed");
  std::vector<uint8_t> out(in.size() * 4 + 1024);
  z.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct; it only reads
  z.avail_in = static_cast<uInt>(in.size());
  size_t produced = 0;
  for (;;) {
    if (produced == out.size()) out.resize(out.size() * 2);
    z.next_out = out.data() + produced;
    z.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = inflate(&z, Z_NO_FLUSH);
    produced = out.size() - z.avail_out;
    if (rc == Z_STREAM_END) {
      const size_t consumed = in.size() - z.avail_in;
      if (z.avail_in == 0) break;
      if (!has_gzip_magic(in, consumed)) {
        inflateEnd(&z);
        throw Error(where(path) + "trailing garbage: " + std::to_string(z.avail_in) +
                    " bytes after the end of the gzip stream");
      }
      inflateReset(&z);  // another member follows
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && z.avail_out != 0) {  // wants input, none left
      inflateEnd(&z);
      throw Error(where(path) + "truncated gzip stream (file ends before the gzip trailer; " +
                  "re-download or re-run scripts/setup)");
    }
    if (rc == Z_BUF_ERROR) continue;  // output full: grow and go on
    const std::string msg = z.msg ? z.msg : "zlib error " + std::to_string(rc);
    inflateEnd(&z);
    throw Error(where(path) + "corrupt gzip data: " + msg);
  }
  inflateEnd(&z);
  out.resize(produced);
  return out;
}

std::vector<uint8_t> gzip(std::span<const uint8_t> in, const std::filesystem::path& path) {
  if (in.size() > UINT32_MAX) throw Error(where(path) + "gzip of over 4 GiB is not supported");
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error(where(path) + "zlib deflateInit2 failed");
  std::vector<uint8_t> out(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);  // deflateBound guarantees one call suffices
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw Error(where(path) + "zlib deflate failed: " + std::to_string(rc));
  return out;
}

}  // namespace

std::vector<uint8_t> read_file_maybe_gzip(const std::filesystem::path& path) {
  std::vector<uint8_t> raw = read_raw(path);
  return has_gzip_magic(raw) ? gunzip(raw, path) : raw;
}

void write_file(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                Compression compression) {
  std::vector<uint8_t> packed;
  if (compression == Compression::kGzip) {
    packed = gzip(bytes, path);
    bytes = packed;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(where(path) + "cannot open for writing (does the folder exist?)");
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw Error(where(path) + "write failed (disk full?)");
}

}  // namespace bnorm::data
