// IDX files (the MNIST container format): a 4-byte magic 00 00 <type> <ndims>, ndims big-endian
// uint32 dimensions, then the data row-major. Only unsigned bytes (type 0x08) are supported, which
// is what MNIST and Fashion-MNIST use. Files may be plain or gzip-compressed (detected by the gzip
// magic 1f 8b, not by the file name).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "data/gzip_file.hpp"

namespace bnorm::data {

// One IDX array of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<uint8_t> data;  // [product of dims], row-major
};

// Reads an IDX file, gunzipping it first when it starts with the gzip magic. Checks the magic,
// the element type (0x08 only), the number of dimensions (1..kIdxMaxDims), that no dimension is 0,
// and that the data length matches the header exactly. Throws bnorm::Error naming the path and
// what is wrong ("<path>: truncated: header says 60000x28x28 = 47040000 bytes, file has 1234").
IdxArray read_idx(const std::filesystem::path& path);

// The same checks on bytes already in memory (after decompression); `source` names them in errors.
IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& source);

// read_idx on a file's bytes in memory, gzipped or not (for tests and fuzzing).
IdxArray decode_idx_file(std::vector<uint8_t> file_bytes, const std::string& source);

// Bytes past the header's size that idx_size_bound still allows, so that a file with a few bytes
// too many gets parse_idx's exact "trailing bytes" message rather than a bound error.
inline constexpr size_t kIdxTrailingSlack = 4096;

// How many bytes (header + data + kIdxTrailingSlack) an IDX file starting with `prefix` may hold,
// from its header; SIZE_MAX while the prefix is shorter than the header. Throws as parse_idx does
// for a bad magic, type or dims, so a gzip bomb or a corrupt header stops decompression early.
size_t idx_size_bound(std::span<const uint8_t> prefix, const std::string& source);

// Writes `array` as IDX (type 0x08), plain or gzip. Throws bnorm::Error when the dims do not match
// the data size or the file cannot be written.
void write_idx(const std::filesystem::path& path, const IdxArray& array,
               Compression compression = Compression::kGzip);

// The raw IDX bytes of `array` (header + data), as write_idx stores them uncompressed.
std::vector<uint8_t> encode_idx(const IdxArray& array);

// More dimensions than this is surely a corrupt header rather than a real array.
inline constexpr int kIdxMaxDims = 8;

// "60000x28x28": dims as they appear in error messages.
std::string format_dims(std::span<const int64_t> dims);

}  // namespace bnorm::data
