// Writing a whole file so that a crash, SIGKILL or power loss leaves either the old file or the
// new one, never a mix: the bytes go to a temporary file in the same folder, which is flushed,
// fsync'd and renamed over the target; then the folder itself is fsync'd so the rename persists.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace bnorm::io {

// Replaces `path` with `bytes` atomically (see above). Throws bnorm::Error naming the path and the
// system's reason (missing folder, permission, disk full) and leaves no temporary file behind.
void write_file_atomically(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace bnorm::io
