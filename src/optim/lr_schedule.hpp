// Learning-rate schedules as pure functions of the step count (steps or epochs: the caller
// decides what it counts):
//   constant:     lr(t) = base
//   step:         lr(t) = base * gamma^floor(t / step_size)        (torch StepLR)
//   exponential:  lr(t) = base * gamma^t                            (torch ExponentialLR)
#pragma once

#include <cstdint>

namespace bnorm::optim {

class LrSchedule {
 public:
  enum class Kind { kConstant, kStep, kExponential };

  static LrSchedule constant(double base_lr);
  // Throws bnorm::Error on step_size < 1 or gamma outside (0, 1].
  static LrSchedule step(double base_lr, int64_t step_size, double gamma);
  static LrSchedule exponential(double base_lr, double gamma);

  double lr_at(int64_t t) const;  // t >= 0
  Kind kind() const { return kind_; }
  double base_lr() const { return base_lr_; }

 private:
  LrSchedule(Kind kind, double base_lr, int64_t step_size, double gamma);
  Kind kind_;
  double base_lr_;
  int64_t step_size_;
  double gamma_;
};

}  // namespace bnorm::optim
