// A child process spoken to over two pipes, one request line out and one answer line back. The
// PyTorch contender runs its worker this way so the worker stays alive (and warm) across calls.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace bnorm::bench {

class WorkerProcess {
 public:
  // Starts argv[0] (a path) with argv, the current environment plus extra_env ("NAME=value").
  // Throws bnorm::Error when the process cannot be started.
  WorkerProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env);
  ~WorkerProcess();  // asks the worker to quit and reaps it
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Sends one line and returns the answer line without its newline. Throws bnorm::Error when the
  // worker has exited.
  std::string request(const std::string& line);

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  std::FILE* from_child_ = nullptr;
};

}  // namespace bnorm::bench
