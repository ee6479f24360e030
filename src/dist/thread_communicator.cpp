// ThreadGroup: the in-process Communicator. Each collective is two barrier phases: every rank
// posts its buffer and waits; every rank reads all buffers into its own result and waits again,
// so no rank overwrites its input while another still reads it.
#include "bnorm/thread_communicator.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>

#include "bnorm/error.hpp"

namespace bnorm {

struct ThreadGroup::State {
  int size;
  std::chrono::milliseconds timeout;
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  int64_t generation = 0;
  std::string abort_reason;  // non-empty: the group is dead
  std::vector<const double*> posted;
  std::vector<size_t> posted_size;

  // Waits until every rank arrived; throws on abort or timeout (and aborts the group then, so
  // every other waiting rank throws too).
  void barrier() {
    std::unique_lock lock(mutex);
    if (!abort_reason.empty()) throw Error(abort_reason);
    const int64_t gen = generation;
    if (++arrived == size) {
      arrived = 0;
      ++generation;
      cv.notify_all();
      return;
    }
    const bool done =
        cv.wait_for(lock, timeout, [&] { return generation != gen || !abort_reason.empty(); });
    if (generation != gen) return;
    if (!done) {
      abort_reason = "[thread_communicator] expected all " + std::to_string(size) +
                     " ranks at a collective within " + std::to_string(timeout.count()) +
                     " ms, got " + std::to_string(arrived) + " (a rank stopped calling)";
      cv.notify_all();
    }
    throw Error(abort_reason);
  }

  void abort(const std::string& why) {
    std::lock_guard lock(mutex);
    if (abort_reason.empty()) abort_reason = why;
    cv.notify_all();
  }

  // Posts this rank's buffer; after the barrier, throws on every rank alike if counts differ.
  void post(int rank, std::span<const double> in, std::string_view op) {
    {
      std::lock_guard lock(mutex);
      posted[static_cast<size_t>(rank)] = in.data();
      posted_size[static_cast<size_t>(rank)] = in.size();
    }
    barrier();
    std::string got;
    bool same = true;
    for (int r = 0; r < size; ++r) {
      same = same && posted_size[static_cast<size_t>(r)] == posted_size[0];
      got += (r ? ", " : "") + std::to_string(posted_size[static_cast<size_t>(r)]);
    }
    if (!same) {
      barrier();  // nobody leaves before everyone has read the sizes
      throw Error("[thread_communicator] expected the same element count from every rank in " +
                  std::string(op) + ", got " + got);
    }
  }
};

namespace {

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup::State* state, int rank) : state_(state), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return state_->size; }

  void all_reduce_sum(std::span<double> data) override {
    state_->post(rank_, data, "all_reduce_sum");
    std::vector<double> sum(data.size(), 0.0);
    for (int r = 0; r < state_->size; ++r) {  // rank order: the same bits on every rank
      const double* p = state_->posted[static_cast<size_t>(r)];
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += p[i];
    }
    state_->barrier();  // every rank has read every input
    std::copy(sum.begin(), sum.end(), data.begin());
  }

  void all_gather(std::span<const double> in, std::span<double> out) override {
    if (out.size() != in.size() * static_cast<size_t>(state_->size)) {
      state_->abort(
          "[thread_communicator] expected all_gather's out to hold size() * in.size() = " +
          std::to_string(in.size() * static_cast<size_t>(state_->size)) + " values, got " +
          std::to_string(out.size()));
    }
    state_->post(rank_, in, "all_gather");
    for (int r = 0; r < state_->size; ++r) {
      const double* p = state_->posted[static_cast<size_t>(r)];
      std::copy(p, p + in.size(), out.begin() + static_cast<std::ptrdiff_t>(r * in.size()));
    }
    state_->barrier();
  }

 private:
  ThreadGroup::State* state_;
  int rank_;
};

}  // namespace

ThreadGroup::ThreadGroup(int size, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  if (size < 1) throw Error("[ThreadGroup] expected size >= 1, got " + std::to_string(size));
  state_->size = size;
  state_->timeout = timeout;
  state_->posted.resize(static_cast<size_t>(size));
  state_->posted_size.resize(static_cast<size_t>(size));
  for (int r = 0; r < size; ++r) {
    communicators_.push_back(std::make_unique<ThreadCommunicator>(state_.get(), r));
  }
}

ThreadGroup::~ThreadGroup() = default;

int ThreadGroup::size() const { return state_->size; }

Communicator& ThreadGroup::communicator(int rank) {
  if (rank < 0 || rank >= state_->size) {
    throw Error("[ThreadGroup::communicator] expected a rank in [0, " +
                std::to_string(state_->size) + "), got " + std::to_string(rank));
  }
  return *communicators_[static_cast<size_t>(rank)];
}

void ThreadGroup::abort(const std::string& why) { state_->abort(why); }

std::vector<std::string> run_on_threads(int size, const std::function<void(Communicator&)>& fn) {
  ThreadGroup group(size);
  std::vector<std::string> errors(static_cast<size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(group.communicator(r));
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
        group.abort("[thread_communicator] rank " + std::to_string(r) +
                    " left the group: " + e.what());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return errors;
}

}  // namespace bnorm
