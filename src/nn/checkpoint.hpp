// Checkpoints: every parameter and buffer of a Sequential (weights, biases, BN gamma/beta, running
// mean/var and num_batches_tracked), by name, in one binary file. Loading needs a network of the
// same architecture; a mismatch in names or sizes is an error naming the entry, never a silent
// partial load. A checkpoint can also carry extra state (an optimizer's momentum buffers, a
// trainer's step count: see optim/training_checkpoint.hpp), written after the network's entries, so
// that a resumed run continues exactly where the saved one stopped.
//
// Format: the line "bnorm-checkpoint 1", then per entry a line "<name> <dtype> <count>" followed by
// count raw little-endian values (dtype f32 or i64) and a newline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nn/sequential.hpp"

namespace bnorm::nn {

// State outside the network that a checkpoint saves and restores, in this order after the
// network's own entries. Loading must be given extras with the same names and sizes.
struct CheckpointExtras {
  std::vector<Buffer> buffers;
  std::vector<Counter> counters;
};

// Writes atomically (a temporary file renamed over `path`: a crash leaves the old checkpoint or the
// new one). Throws bnorm::Error naming the file when it cannot be written.
void save_checkpoint(Sequential& net, const std::string& path, const CheckpointExtras& extras = {});

// Loads all or nothing: throws bnorm::Error naming the file and the entry when it is not a regular
// file, cannot be read, is larger than this network's checkpoint, or does not match net and extras
// (a different architecture, or a checkpoint saved with optimizer state loaded without it or the
// other way round), and then net and extras are unchanged.
void load_checkpoint(Sequential& net, const std::string& path, const CheckpointExtras& extras = {});

// The same on bytes in memory: the checkpoint as save_checkpoint writes it, and its reader
// (`source` names the bytes in errors). For tests and fuzzing.
std::string encode_checkpoint(Sequential& net, const CheckpointExtras& extras = {});
void decode_checkpoint(Sequential& net, std::string_view bytes, const std::string& source,
                       const CheckpointExtras& extras = {});

}  // namespace bnorm::nn
