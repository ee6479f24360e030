// Checkpoints: every parameter and buffer of a Sequential (weights, biases, BN gamma/beta, running
// mean/var and num_batches_tracked), by name, in one binary file. Loading needs a network of the
// same architecture; a mismatch in names or sizes is an error naming the entry, never a silent
// partial load.
//
// Format: the line "bnorm-checkpoint 1", then per entry a line "<name> <dtype> <count>" followed by
// count raw little-endian values (dtype f32 or i64) and a newline.
#pragma once

#include <string>

#include "nn/sequential.hpp"

namespace bnorm::nn {

// Throws bnorm::Error naming the file when it cannot be written.
void save_checkpoint(Sequential& net, const std::string& path);

// Throws bnorm::Error naming the file and the entry when it cannot be read or does not match net;
// net is unchanged then only if the mismatch is in the first entry (entries load in order).
void load_checkpoint(Sequential& net, const std::string& path);

}  // namespace bnorm::nn
