// read_regular_file: open with O_NONBLOCK (a FIFO without writer opens at once instead of
// blocking), fstat the descriptor (no race between the type check and the read), read in a loop.
#include "io/read_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bnorm/error.hpp>
#include <cerrno>
#include <cstring>
#include <string>

namespace bnorm::io {
namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

}  // namespace

std::vector<uint8_t> read_regular_file(const std::filesystem::path& path, size_t max_bytes) {
  const std::string where = path.string() + ": ";
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (f.fd < 0)
    throw Error(where + "cannot open for reading: " + std::strerror(errno) +
                (errno == ENOENT ? " (does the file exist?)" : ""));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw Error(where + "cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw Error(where + "expected a regular file, got " + kind_of(st.st_mode));
  const auto size = static_cast<size_t>(st.st_size);
  if (size > max_bytes)
    throw Error(where + "expected at most " + std::to_string(max_bytes) + " bytes, got a file of " +
                std::to_string(size) + " bytes (wrong file, or corrupt?)");
  // Read one byte past the size from stat, to notice a file that grows while it is read.
  std::vector<uint8_t> bytes(size + 1);
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(f.fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(where + "read error: " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != size)
    throw Error(where + "expected " + std::to_string(size) + " bytes (its size), read " +
                std::to_string(got) + " (was it changed while being read?)");
  bytes.resize(size);
  return bytes;
}

}  // namespace bnorm::io
