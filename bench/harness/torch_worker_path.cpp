// find_torch_worker: the candidates relative to the program, the first that exists.
#include "torch_worker_path.hpp"

#include <system_error>

namespace bnorm::bench {

namespace fs = std::filesystem;

fs::path running_program() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self;
}

std::vector<fs::path> torch_worker_candidates(const fs::path& program) {
  const fs::path dir = program.parent_path();
  return {dir / "torch_worker.py",
          (dir / BNORM_BENCH_WORKER_FROM_BIN / "torch_worker.py").lexically_normal()};
}

WorkerLookup find_torch_worker(const fs::path& program) {
  if (program.empty()) {
    return {.missing =
                "cannot tell where this program is (no /proc/self/exe); pass "
                "--torch-worker"};
  }
  std::string looked;
  for (const fs::path& candidate : torch_worker_candidates(program)) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return {.path = candidate.string()};
    looked += (looked.empty() ? "" : ", ") + candidate.string();
  }
  return {.missing = "no worker script at " + looked + "; pass --torch-worker"};
}

}  // namespace bnorm::bench
