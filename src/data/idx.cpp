// IDX parsing with every check a damaged or mislabelled file can fail, each naming the file.
#include "data/idx.hpp"

#include <bnorm/error.hpp>
#include <limits>
#include <optional>

#include "io/read_file.hpp"

namespace bnorm::data {
namespace {

constexpr uint8_t kTypeUbyte = 0x08;

std::string type_name(uint8_t type) {
  switch (type) {
    case 0x08:
      return "ubyte";
    case 0x09:
      return "sbyte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

std::string hex_byte(uint8_t b) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

uint32_t read_be32(std::span<const uint8_t> b, size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 |
         uint32_t{b[at + 3]};
}

void append_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// Product of dims; dims are < 2^32 each and at most kIdxMaxDims, so check for int64 overflow.
int64_t element_count(std::span<const int64_t> dims, const std::string& source) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (n > std::numeric_limits<int64_t>::max() / d)
      throw Error(source + ": header dims " + format_dims(dims) + " overflow a 64-bit size");
    n *= d;
  }
  return n;
}

// The header's checks, in the order a reader meets them; nullopt while `bytes` is shorter than the
// header. Returns the dims and the header's length.
struct Header {
  std::vector<int64_t> dims;
  size_t length = 0;
};

std::optional<Header> parse_header(std::span<const uint8_t> bytes, const std::string& source) {
  if (bytes.size() < 4) return std::nullopt;
  if (bytes[0] != 0 || bytes[1] != 0)
    throw Error(source + ": bad magic: expected an IDX file starting 00 00, got " +
                hex_byte(bytes[0]) + " " + hex_byte(bytes[1]) + " (not an IDX file?)");
  const uint8_t type = bytes[2];
  if (type != kTypeUbyte)
    throw Error(source + ": unsupported IDX element type " + hex_byte(type) + " (" +
                type_name(type) + "); only 0x08 (ubyte) is supported");
  const int ndims = bytes[3];
  if (ndims < 1 || ndims > kIdxMaxDims)
    throw Error(source + ": bad number of dimensions in the IDX magic: expected 1.." +
                std::to_string(kIdxMaxDims) + ", got " + std::to_string(ndims));
  Header h{.length = 4 + 4 * static_cast<size_t>(ndims)};
  if (bytes.size() < h.length) return std::nullopt;
  for (int i = 0; i < ndims; ++i) h.dims.push_back(read_be32(bytes, 4 + 4 * size_t(i)));
  for (int64_t d : h.dims) {
    if (d == 0) throw Error(source + ": header dims " + format_dims(h.dims) + " contain a 0");
  }
  return h;
}

}  // namespace

size_t idx_size_bound(std::span<const uint8_t> prefix, const std::string& source) {
  const std::optional<Header> h = parse_header(prefix, source);
  if (!h) return std::numeric_limits<size_t>::max();
  const int64_t count = element_count(h->dims, source);
  const size_t bound = h->length + kIdxTrailingSlack;
  return static_cast<uint64_t>(count) > std::numeric_limits<size_t>::max() - bound
             ? std::numeric_limits<size_t>::max()
             : bound + static_cast<size_t>(count);
}

std::string format_dims(std::span<const int64_t> dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& source) {
  if (bytes.size() < 4)
    throw Error(source + ": truncated: " + std::to_string(bytes.size()) +
                " bytes, shorter than the 4-byte IDX magic");
  const std::optional<Header> h = parse_header(bytes, source);
  if (!h) {
    throw Error(source + ": truncated: the header of " + std::to_string(bytes[3]) +
                " dimensions needs " + std::to_string(4 + 4 * size_t{bytes[3]}) +
                " bytes, file has " + std::to_string(bytes.size()));
  }
  const size_t header = h->length;
  IdxArray array{.dims = h->dims};
  const int64_t expected = element_count(array.dims, source);
  const auto actual = static_cast<int64_t>(bytes.size() - header);
  if (actual != expected) {
    throw Error(source + ": " + (actual < expected ? "truncated" : "trailing bytes") +
                ": header says " + format_dims(array.dims) + " = " + std::to_string(expected) +
                " bytes, file has " + std::to_string(actual) + " after the " +
                std::to_string(header) + "-byte header");
  }
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

IdxArray decode_idx_file(std::vector<uint8_t> file_bytes, const std::string& source) {
  const SizeBound bound = [&source](std::span<const uint8_t> prefix) {
    return idx_size_bound(prefix, source);
  };
  return parse_idx(maybe_gunzip(std::move(file_bytes), source, bound), source);
}

IdxArray read_idx(const std::filesystem::path& path) {
  return decode_idx_file(io::read_regular_file(path, kMaxDataFileBytes), path.string());
}

std::vector<uint8_t> encode_idx(const IdxArray& array) {
  const auto ndims = static_cast<int64_t>(array.dims.size());
  if (ndims < 1 || ndims > kIdxMaxDims)
    throw Error("[encode_idx] expected 1.." + std::to_string(kIdxMaxDims) + " dims, got " +
                std::to_string(ndims));
  for (int64_t d : array.dims) {
    if (d < 1 || d > int64_t{std::numeric_limits<uint32_t>::max()})
      throw Error("[encode_idx] expected every dim in 1..2^32-1, got " + format_dims(array.dims));
  }
  const int64_t count = element_count(array.dims, "[encode_idx]");
  if (count != static_cast<int64_t>(array.data.size()))
    throw Error("[encode_idx] expected " + std::to_string(count) + " data bytes for dims " +
                format_dims(array.dims) + ", got " + std::to_string(array.data.size()));
  std::vector<uint8_t> out = {0, 0, kTypeUbyte, static_cast<uint8_t>(ndims)};
  out.reserve(4 + 4 * array.dims.size() + array.data.size());
  for (int64_t d : array.dims) append_be32(out, static_cast<uint32_t>(d));
  out.insert(out.end(), array.data.begin(), array.data.end());
  return out;
}

void write_idx(const std::filesystem::path& path, const IdxArray& array, Compression compression) {
  write_file(path, encode_idx(array), compression);
}

}  // namespace bnorm::data
