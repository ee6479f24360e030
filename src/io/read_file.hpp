// Reading a whole file defensively: only a regular file (a directory, FIFO, socket or device is an
// error, and a FIFO cannot block the open), and never more bytes than the caller allows, so a
// huge or hostile file is an error instead of an out-of-memory abort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace bnorm::io {

// The bytes of `path`. Throws bnorm::Error naming the path when it does not exist, is not a
// regular file, is larger than max_bytes, or cannot be read.
std::vector<uint8_t> read_regular_file(const std::filesystem::path& path, size_t max_bytes);

}  // namespace bnorm::io
