// Cold-cache calls: reading a buffer larger than every cache before a call evicts the problem's
// data, so the call starts from memory as it would after a large layer ran in between.
#pragma once

#include <vector>

namespace bnorm::bench {

class CacheFlusher {
 public:
  explicit CacheFlusher(int mib);  // 128 MiB by default: four times this machine's 32 MiB L3
  // Reads the whole buffer. The sum is kept (and returned) so the reads cannot be optimized away.
  double flush();

 private:
  std::vector<double> buffer_;
  double sink_ = 0.0;
};

}  // namespace bnorm::bench
