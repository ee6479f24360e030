// A placeholder for a contender that cannot run: it reports why and is never prepared or timed.
#include "contender.hpp"

namespace bnorm::bench {
namespace {

class MissingContender final : public Contender {
 public:
  MissingContender(std::string name, std::string reason)
      : name_(std::move(name)), reason_(std::move(reason)) {}
  std::string name() const override { return name_; }
  std::string missing_reason() const override { return reason_; }
  bool prepare(const Problem&) override { return false; }
  void set_threads(int) override {}
  Outputs check() override { return {}; }
  double run_us(bool) override { return 0.0; }

 private:
  std::string name_, reason_;
};

}  // namespace

std::unique_ptr<Contender> make_missing_contender(const std::string& name,
                                                  const std::string& reason) {
  return std::make_unique<MissingContender>(name, reason);
}

}  // namespace bnorm::bench
