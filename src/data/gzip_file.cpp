// gzip via zlib's inflate/deflate on whole buffers: the files here are at most ~50 MB unpacked,
// so reading everything at once is simpler than streaming and just as fast.
#include "data/gzip_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <bnorm/error.hpp>
#include <cstdint>
#include <string>

#include "io/atomic_file.hpp"
#include "io/read_file.hpp"

namespace bnorm::data {
namespace {

std::string where(const std::filesystem::path& path) { return path.string() + ": "; }

bool has_gzip_magic(std::span<const uint8_t> bytes, size_t at = 0) {
  return bytes.size() >= at + 2 && bytes[at] == 0x1f && bytes[at + 1] == 0x8b;
}

// The most bytes the inflated content may have, given what has been inflated so far.
size_t limit_of(const SizeBound& bound, std::span<const uint8_t> prefix) {
  return bound ? std::min(kMaxDataFileBytes, bound(prefix)) : kMaxDataFileBytes;
}

// Inflates every gzip member of `in` back to back into one buffer, never past `bound`.
std::vector<uint8_t> gunzip(std::span<const uint8_t> in, const std::filesystem::path& path,
                            const SizeBound& bound) {
  if (in.size() > UINT32_MAX)  // zlib counts input in 32-bit uInt; our files are < 50 MB
    throw Error(where(path) + "gzip file over 4 GiB is not supported");
  z_stream z{};
  // 15 + 16: gzip wrapper only (a zlib or raw deflate stream is not what we detected).
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw Error(where(path) + "zlib inflateInit2 failed");
  size_t limit = limit_of(bound, {});
  // One byte more than the limit, so that content past it is seen rather than cut off.
  std::vector<uint8_t> out(std::min(in.size() * 4 + 1024, limit + 1));
  z.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct; it only reads
  z.avail_in = static_cast<uInt>(in.size());
  size_t produced = 0;
  for (;;) {
    if (produced == out.size()) out.resize(std::min(out.size() * 2, limit + 1));
    z.next_out = out.data() + produced;
    z.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = inflate(&z, Z_NO_FLUSH);
    produced = out.size() - z.avail_out;
    try {
      limit = limit_of(bound, std::span<const uint8_t>(out.data(), produced));
    } catch (...) {  // the bound rejected the content (e.g. a bad IDX header)
      inflateEnd(&z);
      throw;
    }
    if (produced > limit) {
      inflateEnd(&z);
      throw Error(where(path) + "expected at most " + std::to_string(limit) +
                  " bytes of content (" +
                  (limit == kMaxDataFileBytes ? "bnorm's limit" : "what its header promises") +
                  "), got more from the gzip stream (a corrupt file or a decompression bomb)");
    }
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

std::vector<uint8_t> maybe_gunzip(std::vector<uint8_t> raw, const std::string& source,
                                  const SizeBound& bound) {
  return has_gzip_magic(raw) ? gunzip(raw, source, bound) : raw;
}

std::vector<uint8_t> read_file_maybe_gzip(const std::filesystem::path& path,
                                          const SizeBound& bound) {
  return maybe_gunzip(io::read_regular_file(path, kMaxDataFileBytes), path.string(), bound);
}

void write_file(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                Compression compression) {
  std::vector<uint8_t> packed;
  if (compression == Compression::kGzip) {
    packed = gzip(bytes, path);
    bytes = packed;
  }
  io::write_file_atomically(path, bytes);
}

}  // namespace bnorm::data
