// Checkpoints of a training run, for resuming it: the network (nn/checkpoint.hpp: parameters,
// running statistics, num_batches_tracked), the optimizer's momentum buffers and the trainer's
// step count (which the learning-rate schedule reads). Training resumed from one continues bit for
// bit as the uninterrupted run would, given the same batches: the position in the data is the
// caller's (e.g. skip steps_done() batches of a BatchIterator with the same seed).
#pragma once

#include <string>

#include "optim/classifier_trainer.hpp"

namespace bnorm::optim {

// Throws bnorm::Error naming the file when it cannot be written.
void save_training_checkpoint(ClassifierTrainer& trainer, const std::string& path);

// Throws bnorm::Error naming the file and the entry when it does not match the trainer's network
// and optimizer (a network-only checkpoint from nn::save_checkpoint is rejected: it lacks the
// momentum buffers; load it with nn::load_checkpoint to start a new run from its weights).
void load_training_checkpoint(ClassifierTrainer& trainer, const std::string& path);

}  // namespace bnorm::optim
