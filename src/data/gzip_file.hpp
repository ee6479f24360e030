// Whole-file reads and writes that are transparent to gzip: the IDX files of MNIST and
// Fashion-MNIST ship gzipped, the ones tests write by hand may be either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace bnorm::data {

enum class Compression { kNone, kGzip };

// No file bnorm reads is near this size (Fashion-MNIST's largest is 47 MB unpacked); anything
// bigger, packed or unpacked, is refused before it can exhaust memory.
inline constexpr size_t kMaxDataFileBytes = size_t{1} << 30;

// How many bytes the content may hold in all, given its first bytes: SIZE_MAX while the prefix is
// too short to tell (e.g. the IDX header is not complete yet). It may throw to reject the prefix.
using SizeBound = std::function<size_t(std::span<const uint8_t> prefix)>;

// The bytes of a file, gunzipped when it starts with the gzip magic 1f 8b. Concatenated gzip
// members are read as one stream, as gzip(1) does; anything else after the last member, a
// truncated stream or a bad CRC is an error. The file must be a regular file (a directory or FIFO
// is an error, a FIFO never blocks); neither it nor its inflated content may exceed
// kMaxDataFileBytes, and the inflated content may not exceed what `bound` allows (a gzip bomb is
// an error, found after inflating at most bound + one buffer). Throws bnorm::Error naming the path.
std::vector<uint8_t> read_file_maybe_gzip(const std::filesystem::path& path,
                                          const SizeBound& bound = {});

// The same on a file's bytes already in memory (`source` names them in errors): gunzipped when
// they start with the gzip magic, else returned as they are. For tests and fuzzing.
std::vector<uint8_t> maybe_gunzip(std::vector<uint8_t> raw, const std::string& source,
                                  const SizeBound& bound = {});

// Writes `bytes` to `path` (replacing it), gzip-compressed or not. Throws bnorm::Error naming the
// path when it cannot be written.
void write_file(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                Compression compression);

}  // namespace bnorm::data
