// Independent trainings run side by side: each task trains its own network on its own thread, so a
// 2-core machine trains two at once. Shared by bnorm fig1 (the lr sweep) and bnorm paper (E3's
// models x seeds). The numbers do not depend on how many run at once.
#pragma once

#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace bnorm::experiments {

// Runs task(0) ... task(n - 1) on `jobs` threads; rethrows the first exception.
template <typename Task>
void run_tasks(size_t n, int jobs, const Task& task) {
  if (jobs <= 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) task(i);
    return;
  }
  std::mutex mutex;
  size_t next = 0;
  std::exception_ptr failure;
  auto worker = [&] {
    for (;;) {
      size_t i = 0;
      {
        const std::lock_guard<std::mutex> lock(mutex);
        if (next == n || failure) return;
        i = next++;
      }
      try {
        task(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < jobs && static_cast<size_t>(j) < n; ++j) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace bnorm::experiments
