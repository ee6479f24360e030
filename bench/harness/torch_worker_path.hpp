// Where `bnorm bench` finds its PyTorch worker (bench/torch/torch_worker.py) when no
// --torch-worker is given: relative to the running program, so a build tree, an install and a
// moved install all work without a source path compiled in.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bnorm::bench {

// The running program's own path (/proc/self/exe); empty when it cannot be read.
std::filesystem::path running_program();

// Where the worker may be, in order: next to the program (the build tree copies it there), then
// in ../share/bnorm from the program's folder (where `cmake --install` puts it).
std::vector<std::filesystem::path> torch_worker_candidates(const std::filesystem::path& program);

struct WorkerLookup {
  std::string path;     // the first candidate that exists; empty when none does
  std::string missing;  // when path is empty: where it looked, and the option that fixes it
};
WorkerLookup find_torch_worker(const std::filesystem::path& program);

}  // namespace bnorm::bench
