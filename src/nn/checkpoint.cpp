// Binary checkpoint writer and reader. Saving writes the whole file atomically (io/atomic_file);
// loading reads the whole file (bounded by the size this network's checkpoint has), parses and
// checks every entry into a staging copy, and only then assigns: all or nothing.
#include "nn/checkpoint.hpp"

#include <bit>
#include <cstring>
#include <sstream>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "io/atomic_file.hpp"
#include "io/read_file.hpp"

namespace bnorm::nn {
namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");

constexpr std::string_view kMagic = "bnorm-checkpoint 1";
constexpr std::string_view kOp = "load_checkpoint";

// An entry is either float values (f32) or one integer (counter, read and written through it).
struct Entry {
  std::string name;
  std::span<float> f32;
  Counter counter;
  bool is_int() const { return static_cast<bool>(counter.get); }
  std::string header() const {
    return name + (is_int() ? " i64 1" : " f32 " + std::to_string(f32.size()));
  }
  size_t data_bytes() const { return is_int() ? sizeof(int64_t) : f32.size_bytes(); }
};

std::vector<Entry> entries_of(Sequential& net, const CheckpointExtras& extras) {
  std::vector<Entry> entries;
  for (Parameter& p : net.parameters()) entries.push_back({.name = p.name, .f32 = p.value});
  for (Buffer& b : net.buffers()) entries.push_back({.name = b.name, .f32 = b.value});
  for (Counter& c : net.counters()) entries.push_back({.name = c.name, .counter = c});
  for (const Buffer& b : extras.buffers) entries.push_back({.name = b.name, .f32 = b.value});
  for (const Counter& c : extras.counters) entries.push_back({.name = c.name, .counter = c});
  return entries;
}

// The exact size of the checkpoint these entries make.
size_t checkpoint_bytes(const std::vector<Entry>& entries) {
  size_t n = kMagic.size() + 1;
  for (const Entry& e : entries) n += e.header().size() + 1 + e.data_bytes() + 1;
  return n;
}

// One entry's values read from the file, before anything is assigned.
struct Staged {
  std::vector<float> f32;
  int64_t i64 = 0;
};

// Reads and checks one entry at `at`, advancing it.
Staged parse_entry(std::string_view bytes, size_t& at, const Entry& e, const std::string& source) {
  const size_t eol = bytes.find('\n', at);
  const std::string_view line =
      bytes.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
  detail::check(eol != std::string_view::npos && line == e.header(), kOp, "expected entry '",
                e.header(), "' in '", source, "', got '", line.substr(0, 80),
                "' (the checkpoint was written by a different architecture, or with optimizer "
                "state that this load does not expect or lacks)");
  at = eol + 1;
  detail::check(bytes.size() - at >= e.data_bytes() + 1 && bytes[at + e.data_bytes()] == '\n', kOp,
                "expected ", e.data_bytes(), " bytes of values and a newline for '", e.name,
                "' in '", source, "', got a truncated or corrupt file");
  Staged s;
  if (e.is_int()) {
    std::memcpy(&s.i64, bytes.data() + at, sizeof s.i64);
  } else {
    s.f32.resize(e.f32.size());
    std::memcpy(s.f32.data(), bytes.data() + at, e.data_bytes());
  }
  at += e.data_bytes() + 1;
  return s;
}

// Assigns the staged values; when a counter's setter refuses its value, restores what was there.
void commit(const std::vector<Entry>& entries, const std::vector<Staged>& staged) {
  std::vector<Staged> before;
  for (const Entry& e : entries) {
    before.push_back(e.is_int() ? Staged{.i64 = e.counter.get()}
                                : Staged{.f32 = {e.f32.begin(), e.f32.end()}});
  }
  auto assign = [&entries](const std::vector<Staged>& values) {
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].is_int()) {
        entries[i].counter.set(values[i].i64);
      } else {
        std::copy(values[i].f32.begin(), values[i].f32.end(), entries[i].f32.begin());
      }
    }
  };
  try {
    assign(staged);
  } catch (...) {
    assign(before);
    throw;
  }
}

}  // namespace

std::string encode_checkpoint(Sequential& net, const CheckpointExtras& extras) {
  std::string out;
  const std::vector<Entry> entries = entries_of(net, extras);
  out.reserve(checkpoint_bytes(entries));
  out.append(kMagic).push_back('\n');
  for (const Entry& e : entries) {
    out.append(e.header()).push_back('\n');
    if (e.is_int()) {
      const int64_t n = e.counter.get();
      out.append(reinterpret_cast<const char*>(&n), sizeof n);
    } else {
      out.append(reinterpret_cast<const char*>(e.f32.data()), e.f32.size_bytes());
    }
    out.push_back('\n');
  }
  return out;
}

void save_checkpoint(Sequential& net, const std::string& path, const CheckpointExtras& extras) {
  io::write_file_atomically(path, encode_checkpoint(net, extras));
}

void decode_checkpoint(Sequential& net, std::string_view bytes, const std::string& source,
                       const CheckpointExtras& extras) {
  const size_t magic_end = bytes.find('\n');
  detail::check(bytes.substr(0, magic_end) == kMagic, kOp, "expected '", source,
                "' to start with '", kMagic, "', got '",
                bytes.substr(0, std::min(magic_end, size_t{40})), "' (not a bnorm checkpoint)");
  const std::vector<Entry> entries = entries_of(net, extras);
  size_t at = magic_end + 1;
  std::vector<Staged> staged;
  staged.reserve(entries.size());
  for (const Entry& e : entries) staged.push_back(parse_entry(bytes, at, e, source));
  detail::check(at == bytes.size(), kOp, "expected '", source, "' to end after ", entries.size(),
                " entries, got more (the checkpoint holds a larger architecture, or optimizer "
                "state: load it with optim::load_training_checkpoint)");
  commit(entries, staged);
}

void load_checkpoint(Sequential& net, const std::string& path, const CheckpointExtras& extras) {
  // A little over this network's checkpoint size, so that a slightly larger file still gets the
  // message naming the first entry that differs, while a huge one is refused unread.
  const size_t max_bytes = checkpoint_bytes(entries_of(net, extras)) + 4096;
  const std::vector<uint8_t> bytes = io::read_regular_file(path, max_bytes);
  decode_checkpoint(net,
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                    path, extras);
}

}  // namespace bnorm::nn
