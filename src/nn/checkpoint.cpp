// Binary checkpoint writer and reader.
#include "nn/checkpoint.hpp"

#include <bit>
#include <fstream>
#include <sstream>
#include <vector>

#include "check.hpp"

namespace bnorm::nn {
namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");

constexpr std::string_view kMagic = "bnorm-checkpoint 1";

// An entry is either float values (f32) or one integer (counter, read and written through it).
struct Entry {
  std::string name;
  std::span<float> f32;
  Counter counter;
  bool is_int() const { return static_cast<bool>(counter.get); }
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

}  // namespace

void save_checkpoint(Sequential& net, const std::string& path, const CheckpointExtras& extras) {
  std::ofstream out(path, std::ios::binary);
  detail::check(out.good(), "save_checkpoint", "expected a writable file, got '", path,
                "' (does its directory exist?)");
  out << kMagic << '\n';
  for (const Entry& e : entries_of(net, extras)) {
    if (e.is_int()) {
      const int64_t n = e.counter.get();
      out << e.name << " i64 1\n";
      out.write(reinterpret_cast<const char*>(&n), sizeof n);
    } else {
      out << e.name << " f32 " << e.f32.size() << '\n';
      out.write(reinterpret_cast<const char*>(e.f32.data()),
                static_cast<std::streamsize>(e.f32.size_bytes()));
    }
    out << '\n';
  }
  out.flush();
  detail::check(out.good(), "save_checkpoint", "expected to write '", path,
                "', got a write error (disk full?)");
}

void load_checkpoint(Sequential& net, const std::string& path, const CheckpointExtras& extras) {
  constexpr std::string_view op = "load_checkpoint";
  std::ifstream in(path, std::ios::binary);
  detail::check(in.good(), op, "expected a readable checkpoint file, got '", path, "'");
  std::string line;
  std::getline(in, line);
  detail::check(line == kMagic, op, "expected '", path, "' to start with '", kMagic, "', got '",
                line.substr(0, 40), "' (not a bnorm checkpoint)");
  const std::vector<Entry> entries = entries_of(net, extras);
  for (const Entry& e : entries) {
    std::getline(in, line);
    std::istringstream header(line);
    std::string name, dtype;
    size_t count = 0;
    header >> name >> dtype >> count;
    const bool is_int = e.is_int();
    const size_t want = is_int ? 1 : e.f32.size();
    detail::check(in.good() && name == e.name && dtype == (is_int ? "i64" : "f32") && count == want,
                  op, "expected entry '", e.name, (is_int ? " i64 " : " f32 "), want, "' in '",
                  path, "', got '", line,
                  "' (the checkpoint was written by a different architecture, or with optimizer "
                  "state that this load does not expect or lacks)");
    if (is_int) {
      int64_t n = 0;
      in.read(reinterpret_cast<char*>(&n), sizeof n);
      e.counter.set(n);
    } else {
      in.read(reinterpret_cast<char*>(e.f32.data()),
              static_cast<std::streamsize>(e.f32.size_bytes()));
    }
    detail::check(in.get() == '\n' && in.good(), op, "expected ", want, " values for '", e.name,
                  "' in '", path, "', got a truncated file");
  }
  detail::check(
      in.peek() == std::char_traits<char>::eof(), op, "expected '", path, "' to end after ",
      entries.size(),
      " entries, got more (the checkpoint holds a larger architecture, or optimizer state: "
      "load it with optim::load_training_checkpoint)");
}

}  // namespace bnorm::nn
