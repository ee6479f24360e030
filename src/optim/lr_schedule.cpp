// The three learning-rate schedules.
#include "optim/lr_schedule.hpp"

#include <cmath>

#include "check.hpp"

namespace bnorm::optim {

LrSchedule::LrSchedule(Kind kind, double base_lr, int64_t step_size, double gamma)
    : kind_(kind), base_lr_(base_lr), step_size_(step_size), gamma_(gamma) {
  detail::check(base_lr >= 0.0, "LrSchedule", "expected a base learning rate >= 0, got ", base_lr);
  detail::check(step_size >= 1, "LrSchedule", "expected step_size >= 1, got ", step_size);
  detail::check(gamma > 0.0 && gamma <= 1.0, "LrSchedule", "expected a decay gamma in (0, 1], got ",
                gamma);
}

LrSchedule LrSchedule::constant(double base_lr) { return {Kind::kConstant, base_lr, 1, 1.0}; }
LrSchedule LrSchedule::step(double base_lr, int64_t step_size, double gamma) {
  return {Kind::kStep, base_lr, step_size, gamma};
}
LrSchedule LrSchedule::exponential(double base_lr, double gamma) {
  return {Kind::kExponential, base_lr, 1, gamma};
}

double LrSchedule::lr_at(int64_t t) const {
  detail::check(t >= 0, "LrSchedule::lr_at", "expected a step >= 0, got ", t);
  switch (kind_) {
    case Kind::kConstant:
      return base_lr_;
    case Kind::kStep:
      return base_lr_ * std::pow(gamma_, static_cast<double>(t / step_size_));
    case Kind::kExponential:
      return base_lr_ * std::pow(gamma_, static_cast<double>(t));
  }
  return base_lr_;
}

}  // namespace bnorm::optim
