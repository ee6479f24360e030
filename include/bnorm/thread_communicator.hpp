// An in-process Communicator: K ranks are K threads sharing one ThreadGroup. For unit tests of
// synchronized BatchNorm without a launcher, and as the reference behaviour of a communicator.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bnorm/communicator.hpp"

namespace bnorm {

class ThreadGroup;

// The group's shared state: every rank's thread calls collectives on its own communicator(r).
// Results are the same bit for bit on every rank (sums run in rank order). It never hangs: a rank
// that does not reach a collective within `timeout`, or a call to abort(), makes every waiting
// rank throw bnorm::Error; ranks that pass different element counts all throw the same Error.
class ThreadGroup {
 public:
  explicit ThreadGroup(int size, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~ThreadGroup();
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  int size() const;
  Communicator& communicator(int rank);  // 0 <= rank < size()
  // Makes every collective in progress or to come throw bnorm::Error with `why`.
  void abort(const std::string& why);

  struct State;  // defined in src/dist/thread_communicator.cpp

 private:
  std::unique_ptr<State> state_;
  std::vector<std::unique_ptr<Communicator>> communicators_;
};

// Runs fn(communicator(r)) for every rank r of a fresh ThreadGroup on its own thread and waits for
// all. Returns what each rank threw ("" when it returned); a rank that throws aborts the group so
// that the others cannot wait for it forever.
std::vector<std::string> run_on_threads(int size, const std::function<void(Communicator&)>& fn);

}  // namespace bnorm
