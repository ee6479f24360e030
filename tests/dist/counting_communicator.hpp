// A Communicator that forwards to another and counts calls and doubles sent, for the tests that
// pin down what synchronized BatchNorm exchanges per step.
#pragma once

#include <bnorm/communicator.hpp>
#include <cstdint>

namespace bnorm::test {

class CountingCommunicator final : public Communicator {
 public:
  static constexpr int64_t kSignatureDoubles = 18;  // dist::kFieldCount

  struct Counts {
    int64_t all_reduces = 0;
    int64_t all_gathers = 0;
    int64_t doubles_sent = 0;  // per rank: the input of each call
  };

  explicit CountingCommunicator(Communicator& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void all_reduce_sum(std::span<double> data) override {
    ++counts_.all_reduces;
    counts_.doubles_sent += static_cast<int64_t>(data.size());
    inner_.all_reduce_sum(data);
  }
  void all_gather(std::span<const double> in, std::span<double> out) override {
    ++counts_.all_gathers;
    counts_.doubles_sent += static_cast<int64_t>(in.size());
    inner_.all_gather(in, out);
  }
  // The counts since the last take().
  Counts take() {
    const Counts c = counts_;
    counts_ = {};
    return c;
  }

 private:
  Communicator& inner_;
  Counts counts_;
};

}  // namespace bnorm::test
