// A long training loop that prints its resident memory as it goes, for scripts/measure_rss: a BN
// MLP (the checkpoint tests' run) trained for N steps; steady-state training allocates nothing, so
// the RSS printed after the first steps must stay flat. Usage: bnorm_rss_loop [steps].
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "checkpoint_run.hpp"

namespace {

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const long steps = argc > 1 ? std::atol(argv[1]) : 1000000;
  bnorm::robustness::CheckpointRun run;
  for (long done = 0, next = 1000; done < steps; ++done) {
    run.step();
    if (done + 1 == next || done + 1 == steps) {
      std::printf("step %ld rss_kib %ld\n", done + 1, rss_kib());
      std::fflush(stdout);
      next *= 10;
    }
  }
  return 0;
}
