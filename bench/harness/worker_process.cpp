// WorkerProcess: posix_spawn with the child's stdin and stdout on pipes; stderr is inherited so a
// worker's Python traceback reaches the user.
#include "worker_process.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bnorm/error.hpp"

extern char** environ;

namespace bnorm::bench {

WorkerProcess::WorkerProcess(const std::vector<std::string>& argv,
                             const std::vector<std::string>& extra_env) {
  // A worker that dies must surface as an error on the next request, not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  int down[2], up[2];
  if (pipe(down) != 0 || pipe(up) != 0) {
    throw Error("[bench] expected pipes for the worker " + argv[0] + ", got " +
                std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, down[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, up[1], STDOUT_FILENO);
  for (int fd : {down[0], down[1], up[0], up[1]}) posix_spawn_file_actions_addclose(&actions, fd);

  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> c_argv, c_env;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  for (const std::string& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_argv.push_back(nullptr);
  c_env.push_back(nullptr);

  const int rc =
      posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(down[0]);
  close(up[1]);
  if (rc != 0) {
    close(down[1]);
    close(up[0]);
    pid_ = -1;
    throw Error("[bench] expected to start " + argv[0] + ", got " + std::strerror(rc));
  }
  to_child_ = down[1];
  from_child_ = fdopen(up[0], "r");
}

WorkerProcess::~WorkerProcess() {
  if (to_child_ >= 0) {
    const char quit[] = "quit\n";
    [[maybe_unused]] const ssize_t n = write(to_child_, quit, sizeof(quit) - 1);
    close(to_child_);
  }
  if (from_child_ != nullptr) std::fclose(from_child_);
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::string WorkerProcess::request(const std::string& line) {
  const std::string out = line + "\n";
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = write(to_child_, out.data() + sent, out.size() - sent);
    if (n <= 0) throw Error("[bench] expected the worker to read '" + line + "', but it exited");
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  for (int ch = std::fgetc(from_child_); ch != '\n'; ch = std::fgetc(from_child_)) {
    if (ch == EOF)
      throw Error("[bench] expected an answer to '" + line + "', but the worker exited");
    answer.push_back(static_cast<char>(ch));
  }
  return answer;
}

}  // namespace bnorm::bench
