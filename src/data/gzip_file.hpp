// Whole-file reads and writes that are transparent to gzip: the IDX files of MNIST and
// Fashion-MNIST ship gzipped, the ones tests write by hand may be either.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace bnorm::data {

enum class Compression { kNone, kGzip };

// The bytes of a file, gunzipped when it starts with the gzip magic 1f 8b. Concatenated gzip
// members are read as one stream, as gzip(1) does; anything else after the last member, a
// truncated stream or a bad CRC is an error. Throws bnorm::Error naming the path.
std::vector<uint8_t> read_file_maybe_gzip(const std::filesystem::path& path);

// Writes `bytes` to `path` (replacing it), gzip-compressed or not. Throws bnorm::Error naming the
// path when it cannot be written.
void write_file(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                Compression compression);

}  // namespace bnorm::data
