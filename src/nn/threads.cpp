// set_num_threads for OpenMP and OpenBLAS together.
#include "nn/threads.hpp"

#include <cblas.h>
#include <omp.h>

#include "check.hpp"

namespace bnorm::nn {

void set_num_threads(int n) {
  detail::check(n >= 1, "set_num_threads", "expected at least 1 thread, got ", n);
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace bnorm::nn
