// CacheFlusher: one pass of reads over a buffer that does not fit in any cache level.
#include "cold_cache.hpp"

#include <cstddef>

namespace bnorm::bench {

CacheFlusher::CacheFlusher(int mib)
    : buffer_(static_cast<size_t>(mib) * 1024 * 1024 / sizeof(double), 1.0) {}

double CacheFlusher::flush() {
  // One element per 64-byte line is enough to pull every line through the caches.
  double sum = 0.0;
  for (size_t i = 0; i < buffer_.size(); i += 8) sum += buffer_[i];
  sink_ += sum;
  return sink_;
}

}  // namespace bnorm::bench
