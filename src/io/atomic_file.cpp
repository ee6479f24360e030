// write_file_atomically: temp file (mkstemp in the target's folder), write, fsync, rename, fsync
// the folder. POSIX only, like the rest of bnorm's I/O.
#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bnorm/error.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace bnorm::io {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int err) {
  throw Error("[write_file_atomically] expected to write " + path.string() + ", got " + what +
              ": " + std::strerror(err));
}

// Closes the descriptor and removes the temporary file unless released (after the rename).
struct TempFile {
  int fd = -1;
  std::string name;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!name.empty()) ::unlink(name.c_str());
  }
};

void write_all(int fd, const uint8_t* data, size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, "a write error (disk full?)", errno);
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void fsync_folder(const std::filesystem::path& folder, const std::filesystem::path& path) {
  const int dfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail(path, "its folder not opening for fsync", errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  // Some file systems (e.g. some network mounts) refuse fsync on a directory; the rename is done.
  if (rc != 0 && err != EINVAL && err != EROFS) fail(path, "a failed fsync of its folder", err);
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  const std::filesystem::path folder =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string pattern = (folder / ("." + path.filename().string() + ".tmp.XXXXXX")).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  TempFile tmp;
  tmp.fd = ::mkstemp(name.data());
  if (tmp.fd < 0)
    fail(path, "no temporary file in " + folder.string() + " (does it exist?)", errno);
  tmp.name = name.data();
  write_all(tmp.fd, bytes.data(), bytes.size(), path);
  // mkstemp creates 0600; outputs are meant to be read by others too (reading the umask would
  // mean setting it, which is not thread-safe).
  if (::fchmod(tmp.fd, 0644) != 0) fail(path, "a failed chmod", errno);
  if (::fsync(tmp.fd) != 0) fail(path, "a failed fsync (disk full?)", errno);
  if (::close(tmp.fd) != 0) {
    tmp.fd = -1;
    fail(path, "a failed close", errno);
  }
  tmp.fd = -1;
  if (::rename(tmp.name.c_str(), path.c_str()) != 0) fail(path, "a failed rename", errno);
  tmp.name.clear();
  fsync_folder(folder, path);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace bnorm::io
