//! MNIST: 70,000 handwritten digits, loaded from the four IDX files in which
//! it is distributed, raw or gzipped.
//!
//! [`load`] reads, from one directory:
//!
//! | file                      | magic number | contents                         |
//! |---------------------------|--------------|----------------------------------|
//! | `train-images-idx3-ubyte` | `0x00000803` | 60,000 × 28 × 28 `u8` pixels     |
//! | `train-labels-idx1-ubyte` | `0x00000801` | 60,000 `u8` labels, 0 to 9       |
//! | `t10k-images-idx3-ubyte`  | `0x00000803` | 10,000 × 28 × 28 `u8` pixels     |
//! | `t10k-labels-idx1-ubyte`  | `0x00000801` | 10,000 `u8` labels, 0 to 9       |
//!
//! each either as named or with `.gz` appended (the raw file wins if both are
//! there). The files can be downloaded from [`DOWNLOAD_URL`], or, with the
//! `download` feature, fetched by `load_or_download` when they are missing
//! (see the `download` module). The layout is that of [`idx`]:
//! pixels are row-major, 0 is background (white) and 255 is ink (black).
//!
//! [Fashion-MNIST](crate::data::fashion_mnist) has the same four files, of the
//! same names and format; this module reads both, told apart by [`Variant`]
//! where it matters (error messages, download sources, checksums).
//!
//! An image becomes an [`Image<T>`], a `SVector<T, 784>` whose element
//! `28 × row + column` is the pixel's byte / 255, in `[0, 1]`, as
//! torchvision's `ToTensor` makes it; a label becomes a `usize`.
//! [`load_pixels`] keeps each image as its 784 bytes instead, a
//! [`Pixels`]`<784>` that training converts to the same values as it
//! gathers each batch: a quarter of the memory, and batches copied faster.
//!
//! # Hostile files
//!
//! No size read from a header is allocated before it is checked. A file is
//! read only if its header claims at most [`MAX_FILE_BYTES`]; a raw file only
//! if its length on disk is what its header claims; and the bytes are read,
//! raw or decompressed, into a buffer that grows with the data that actually
//! arrives and stops at one byte past the claimed length. A gzip bomb or a
//! header that lies therefore costs at most the claimed length + 1 bytes of
//! memory, and a file that is shorter or longer than its header says is an
//! error.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use flate2::read::MultiGzDecoder;
use nalgebra::SVector;

use crate::Float;
use crate::data::idx::{self, Dtype, Header, IdxError, MAX_HEADER_LEN};
use crate::data::{Dataset, Pixels};

/// Rows of an image.
pub const ROWS: usize = 28;

/// Columns of an image.
pub const COLS: usize = 28;

/// Pixels of an image: 28 × 28 = 784.
pub const PIXELS: usize = ROWS * COLS;

/// Classes: the digits 0 to 9.
pub const CLASSES: usize = 10;

/// The magic number of an image file: `u8` values, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;

/// The magic number of a label file: `u8` values, 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The training images, as named without `.gz`.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";

/// The training labels, as named without `.gz`.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";

/// The test images, as named without `.gz`.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";

/// The test labels, as named without `.gz`.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Where the four gzipped files can be downloaded from.
pub const DOWNLOAD_URL: &str = "https://ossci-datasets.s3.amazonaws.com/mnist/";

/// The environment variable that error messages suggest for pointing at the files.
pub const DIR_VAR: &str = "MNIST_DIR";

/// The names of MNIST's classes: the digits `"0"` to `"9"`.
pub const CLASS_NAMES: [&str; CLASSES] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The largest IDX file, in bytes after decompression, that [`read_idx_file`]
/// reads: 1 GiB.
///
/// A header claiming more is rejected before any data is read, so that a
/// hostile or corrupt file cannot make the reader allocate more than this.
/// MNIST's largest file is 47,040,016 bytes.
pub const MAX_FILE_BYTES: usize = 1 << 30;

/// The first two bytes of a gzip file.
const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// The first allocation when the size of the data is not known in advance
/// (gzipped files); the buffer doubles from there.
const FIRST_CHUNK: usize = 64 * 1024;

/// An MNIST image: 784 pixels in `[0, 1]`, row by row.
pub type Image<T> = SVector<T, PIXELS>;

/// The MNIST training and test sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist<T: Float> {
    /// The 60,000 training images and their labels.
    pub train: Dataset<Image<T>, usize>,
    /// The 10,000 test images and their labels.
    pub test: Dataset<Image<T>, usize>,
}

/// The MNIST training and test sets with each image kept as its bytes:
/// what [`load_pixels`] returns. [`Trainer::fit`](crate::fit::Trainer::fit)
/// and [`evaluate`](crate::fit::evaluate) take these datasets as they are,
/// for a network of 784 inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct MnistPixels {
    /// The 60,000 training images and their labels.
    pub train: Dataset<Pixels<PIXELS>, usize>,
    /// The 10,000 test images and their labels.
    pub test: Dataset<Pixels<PIXELS>, usize>,
}

/// The two kinds of MNIST file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Images: magic number `0x00000803`, shape count × 28 × 28.
    Images,
    /// Labels: magic number `0x00000801`, shape count.
    Labels,
}

/// The datasets distributed as MNIST is: four IDX files of the same names,
/// 60,000 training and 10,000 test images of 28 × 28 `u8` pixels, labels 0 to 9.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Variant {
    /// MNIST: handwritten digits (LeCun, Cortes, Burges).
    Mnist,
    /// Fashion-MNIST: Zalando's article images (Xiao, Rasul, Vollgraf),
    /// classes named in [`fashion_mnist::CLASS_NAMES`](crate::data::fashion_mnist::CLASS_NAMES).
    FashionMnist,
}

impl Variant {
    /// The dataset's name: `"MNIST"` or `"Fashion-MNIST"`.
    pub const fn name(self) -> &'static str {
        match self {
            Variant::Mnist => "MNIST",
            Variant::FashionMnist => "Fashion-MNIST",
        }
    }

    /// Where the four gzipped files can be downloaded from (the first of the
    /// download mirrors).
    pub const fn download_url(self) -> &'static str {
        match self {
            Variant::Mnist => DOWNLOAD_URL,
            Variant::FashionMnist => crate::data::fashion_mnist::DOWNLOAD_URL,
        }
    }

    /// The environment variable that error messages suggest for pointing at
    /// the files: `MNIST_DIR` or `FASHION_MNIST_DIR`.
    pub const fn dir_var(self) -> &'static str {
        match self {
            Variant::Mnist => DIR_VAR,
            Variant::FashionMnist => crate::data::fashion_mnist::DIR_VAR,
        }
    }

    /// The names of the ten classes, by label.
    pub const fn class_names(self) -> [&'static str; CLASSES] {
        match self {
            Variant::Mnist => CLASS_NAMES,
            Variant::FashionMnist => crate::data::fashion_mnist::CLASS_NAMES,
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One of the four files of the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// [`TRAIN_IMAGES`]: 60,000 images.
    TrainImages,
    /// [`TRAIN_LABELS`]: 60,000 labels.
    TrainLabels,
    /// [`TEST_IMAGES`]: 10,000 images.
    TestImages,
    /// [`TEST_LABELS`]: 10,000 labels.
    TestLabels,
}

impl Part {
    /// The four files, in the order [`load`] reads them.
    pub const ALL: [Part; 4] =
        [Part::TrainImages, Part::TrainLabels, Part::TestImages, Part::TestLabels];

    /// The file's name without `.gz`: [`TRAIN_IMAGES`] and so on.
    pub const fn name(self) -> &'static str {
        match self {
            Part::TrainImages => TRAIN_IMAGES,
            Part::TrainLabels => TRAIN_LABELS,
            Part::TestImages => TEST_IMAGES,
            Part::TestLabels => TEST_LABELS,
        }
    }

    /// Whether the file holds images or labels.
    pub const fn kind(self) -> Kind {
        match self {
            Part::TrainImages | Part::TestImages => Kind::Images,
            Part::TrainLabels | Part::TestLabels => Kind::Labels,
        }
    }

    /// The number of images or labels in the file as distributed: 60,000 or 10,000.
    pub const fn count(self) -> usize {
        match self {
            Part::TrainImages | Part::TrainLabels => 60_000,
            Part::TestImages | Part::TestLabels => 10_000,
        }
    }

    /// The IDX header of the file as distributed: `u8` data of shape
    /// count × 28 × 28 (images) or count (labels).
    #[cfg(feature = "download")]
    pub(crate) fn header(self) -> Option<Header> {
        let count = u32::try_from(self.count()).ok()?;
        let words: &[u32] = match self.kind() {
            Kind::Images => &[IMAGES_MAGIC, count, 28, 28],
            Kind::Labels => &[LABELS_MAGIC, count],
        };
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        idx::parse_header(&bytes).ok().flatten()
    }
}

/// Why MNIST could not be loaded. Every error names the file (or the
/// directory) it is about.
#[derive(Debug)]
#[non_exhaustive]
pub enum MnistError {
    /// Neither `name` nor `name.gz` is a file in `dir`.
    Missing {
        /// The directory searched.
        dir: PathBuf,
        /// The name of the file, without `.gz`.
        name: String,
        /// Whether the directory exists.
        dir_exists: bool,
        /// The dataset looked for.
        variant: Variant,
    },
    /// A file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A gzipped file could not be decompressed: it is truncated or corrupt.
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decompressor reported.
        source: io::Error,
    },
    /// A file (after decompression) is not a valid IDX file.
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: IdxError,
    },
    /// A header claims more than [`MAX_FILE_BYTES`] (or the smaller limit
    /// of a downloaded file's check).
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The header.
        header: Header,
        /// The largest file allowed, in bytes.
        limit: usize,
    },
    /// A file goes on past the length its header claims. (For a raw file
    /// whose length on disk is wrong, the error is [`MnistError::Idx`] with
    /// [`IdxError::LengthMismatch`].)
    TrailingData {
        /// The file.
        path: PathBuf,
        /// The header.
        header: Header,
    },
    /// A valid IDX file, but not of the kind expected: labels where images
    /// are expected, images that are not 28 × 28, values that are not `u8`.
    WrongKind {
        /// The file.
        path: PathBuf,
        /// The kind expected.
        expected: Kind,
        /// The header found.
        header: Header,
    },
    /// The number of images differs from the number of labels.
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// The label file.
        labels: PathBuf,
        /// The number of images.
        image_count: usize,
        /// The number of labels.
        label_count: usize,
    },
    /// A label is not a digit from 0 to 9.
    LabelOutOfRange {
        /// The label file.
        path: PathBuf,
        /// The position of the label, from 0.
        index: usize,
        /// The label.
        value: u8,
    },
}

impl fmt::Display for MnistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MnistError::Missing { dir, name, dir_exists, variant } => {
                write!(f, "cannot find `{name}` or `{name}.gz` in `{}`", dir.display())?;
                if !dir_exists {
                    f.write_str(", which does not exist")?;
                }
                write!(
                    f,
                    ": download the {variant} files from {} or set {} to the directory that holds them",
                    variant.download_url(),
                    variant.dir_var()
                )
            }
            MnistError::Io { path, source } => {
                write!(f, "cannot read `{}`: {source}", path.display())
            }
            MnistError::Gzip { path, source } => {
                write!(f, "cannot decompress `{}`: {source}", path.display())
            }
            MnistError::Idx { path, source } => {
                write!(f, "`{}` is not a valid IDX file: {source}", path.display())
            }
            MnistError::TooLarge { path, header, limit } => write!(
                f,
                "`{}` claims {} bytes ({header}), more than the {limit} bytes an MNIST file may take",
                path.display(),
                header.total_len()
            ),
            MnistError::TrailingData { path, header } => write!(
                f,
                "`{}` goes on past the {} bytes its IDX header claims ({header})",
                path.display(),
                header.total_len()
            ),
            MnistError::WrongKind { path, expected, header } => {
                let (what, shape, magic) = match expected {
                    Kind::Images => ("an MNIST image file", "count × 28 × 28", IMAGES_MAGIC),
                    Kind::Labels => ("an MNIST label file", "count", LABELS_MAGIC),
                };
                write!(
                    f,
                    "`{}` is not {what}: expected u8 data of shape {shape} (magic number {magic:#010x}), \
                     found {header} (magic number {:#010x})",
                    path.display(),
                    header.magic()
                )?;
                match (expected, header.magic()) {
                    (Kind::Images, LABELS_MAGIC) => f.write_str("; this looks like a label file"),
                    (Kind::Labels, IMAGES_MAGIC) => f.write_str("; this looks like an image file"),
                    _ => Ok(()),
                }
            }
            MnistError::CountMismatch { images, labels, image_count, label_count } => write!(
                f,
                "`{}` holds {image_count} images but `{}` holds {label_count} labels; each image needs one label",
                images.display(),
                labels.display()
            ),
            MnistError::LabelOutOfRange { path, index, value } => write!(
                f,
                "label {index} in `{}` is {value}, but MNIST labels are digits from 0 to 9",
                path.display()
            ),
        }
    }
}

impl std::error::Error for MnistError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MnistError::Io { source, .. } | MnistError::Gzip { source, .. } => Some(source),
            MnistError::Idx { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Loads MNIST from `dir`, which holds the four files (see the [module
/// docs](self)), each raw or gzipped.
///
/// # Errors
///
/// [`MnistError::Missing`] if a file is in neither form (all four are looked
/// for before any is read), and those of [`load_pair`].
pub fn load<T: Float>(dir: impl AsRef<Path>) -> Result<Mnist<T>, MnistError> {
    load_variant(dir.as_ref(), Variant::Mnist)
}

/// Loads MNIST from `dir` as [`load`] does, keeping each image as its 784
/// bytes: see [`Pixels`].
///
/// # Errors
///
/// Those of [`load`].
pub fn load_pixels(dir: impl AsRef<Path>) -> Result<MnistPixels, MnistError> {
    load_variant_pixels(dir.as_ref(), Variant::Mnist)
}

/// Loads MNIST from `dir` as [`load`] does if the four files are there, and
/// otherwise first downloads the missing ones into `dir` (creating it), from
/// the default mirrors, each checked by the SHA-256 of its decompressed
/// content: see [`download`](crate::data::download) for the sources, the
/// checks, the limits and the progress shown.
///
/// When all four files are present, nothing is sent over the network.
///
/// # Errors
///
/// Those of [`download_missing`](crate::data::download::download_missing),
/// and [`DownloadError::Load`](crate::data::download::DownloadError::Load)
/// wrapping those of [`load`].
#[cfg(feature = "download")]
pub fn load_or_download<T: Float>(
    dir: impl AsRef<Path>,
) -> Result<Mnist<T>, crate::data::download::DownloadError> {
    load_or_download_with(dir, &crate::data::download::DownloadOptions::default())
}

/// [`load_or_download`] with other mirrors, limits, timeouts or progress
/// display.
///
/// # Errors
///
/// Those of [`load_or_download`].
#[cfg(feature = "download")]
pub fn load_or_download_with<T: Float>(
    dir: impl AsRef<Path>,
    options: &crate::data::download::DownloadOptions,
) -> Result<Mnist<T>, crate::data::download::DownloadError> {
    download_then(dir.as_ref(), options, |dir| load(dir))
}

/// [`load_or_download`], keeping each image as its bytes (see
/// [`load_pixels`]).
///
/// # Errors
///
/// Those of [`load_or_download`].
#[cfg(feature = "download")]
pub fn load_or_download_pixels(
    dir: impl AsRef<Path>,
) -> Result<MnistPixels, crate::data::download::DownloadError> {
    download_then(dir.as_ref(), &crate::data::download::DownloadOptions::default(), |dir| {
        load_pixels(dir)
    })
}

/// Downloads the files of MNIST missing from `dir`, then loads it with `load`.
#[cfg(feature = "download")]
fn download_then<R>(
    dir: &Path,
    options: &crate::data::download::DownloadOptions,
    load: impl FnOnce(&Path) -> Result<R, MnistError>,
) -> Result<R, crate::data::download::DownloadError> {
    crate::data::download::download_missing(dir, Variant::Mnist, options)?;
    load(dir).map_err(crate::data::download::DownloadError::Load)
}

/// Loads `variant` from `dir`: the four files, each raw or gzipped.
pub(crate) fn load_variant<T: Float>(dir: &Path, variant: Variant) -> Result<Mnist<T>, MnistError> {
    let [train_images, train_labels, test_images, test_labels] = find_all(dir, variant)?;
    Ok(Mnist {
        train: load_pair(&train_images, &train_labels)?,
        test: load_pair(&test_images, &test_labels)?,
    })
}

/// Loads `variant` from `dir` as [`load_variant`] does, images as bytes.
pub(crate) fn load_variant_pixels(dir: &Path, variant: Variant) -> Result<MnistPixels, MnistError> {
    let [train_images, train_labels, test_images, test_labels] = find_all(dir, variant)?;
    Ok(MnistPixels {
        train: load_pair_pixels(&train_images, &train_labels)?,
        test: load_pair_pixels(&test_images, &test_labels)?,
    })
}

/// The paths of the four files, all looked for before any is read.
fn find_all(dir: &Path, variant: Variant) -> Result<[PathBuf; 4], MnistError> {
    Ok([
        find(dir, TRAIN_IMAGES, variant)?,
        find(dir, TRAIN_LABELS, variant)?,
        find(dir, TEST_IMAGES, variant)?,
        find(dir, TEST_LABELS, variant)?,
    ])
}

/// Loads one image file and its label file, each raw or gzipped: a dataset
/// of as many images as labels.
///
/// # Errors
///
/// Those of [`read_idx_file`], [`parse_labels`] and [`parse_images`], and
/// [`MnistError::CountMismatch`] if the numbers of images and labels differ.
pub fn load_pair<T: Float>(
    images: &Path,
    labels: &Path,
) -> Result<Dataset<Image<T>, usize>, MnistError> {
    load_pair_as(images, labels, Pixels::to_vector)
}

/// [`load_pair`] keeping each image as its bytes.
///
/// # Errors
///
/// Those of [`load_pair`].
pub fn load_pair_pixels(
    images: &Path,
    labels: &Path,
) -> Result<Dataset<Pixels<PIXELS>, usize>, MnistError> {
    load_pair_as(images, labels, |&pixels| pixels)
}

/// [`load_pair`] with each image's bytes made into an input by `input`.
fn load_pair_as<X>(
    images: &Path,
    labels: &Path,
    input: impl Fn(&Pixels<PIXELS>) -> X,
) -> Result<Dataset<X, usize>, MnistError> {
    let label_bytes = read_idx_file(labels)?;
    let targets = parse_labels(&label_bytes, labels)?;
    drop(label_bytes);

    let image_bytes = read_idx_file(images)?;
    let image_count = check_images(&image_bytes, images)?.dims().first().copied().unwrap_or(0);
    let count_mismatch = |image_count: usize, label_count: usize| MnistError::CountMismatch {
        images: images.to_path_buf(),
        labels: labels.to_path_buf(),
        image_count,
        label_count,
    };
    if image_count != targets.len() {
        return Err(count_mismatch(image_count, targets.len()));
    }
    let inputs = pixels_of(&image_bytes, images)?.map(|p| input(&p)).collect();
    Dataset::new(inputs, targets).map_err(|m| count_mismatch(m.inputs, m.targets))
}

/// The path of `name` in `dir`, or of `name.gz` if only that is a file.
pub(crate) fn find(dir: &Path, name: &str, variant: Variant) -> Result<PathBuf, MnistError> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let gz = dir.join(std::format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(MnistError::Missing {
        dir: dir.to_path_buf(),
        name: name.to_string(),
        dir_exists: dir.is_dir(),
        variant,
    })
}

/// Reads an IDX file, raw or gzipped, and returns its bytes (decompressed),
/// after checking that it is as long as its header claims.
///
/// A file that starts with the gzip magic bytes `1f 8b` is decompressed,
/// whatever its name (several concatenated gzip members are read as one
/// stream, as `gzip -d` does); any other is read as it is. The header must be
/// a valid IDX header ([`idx::parse_header`]) claiming at most
/// [`MAX_FILE_BYTES`], and the file must end where it claims: see the [module
/// docs](self) for how memory stays bounded.
///
/// # Errors
///
/// [`MnistError::Io`] if the file cannot be opened or read,
/// [`MnistError::Gzip`] if it cannot be decompressed, [`MnistError::Idx`] if
/// its header is invalid or its length is not the one the header claims
/// (checked against the length on disk before reading a raw file),
/// [`MnistError::TooLarge`] if the header claims more than
/// [`MAX_FILE_BYTES`], and [`MnistError::TrailingData`] if data goes on past
/// the claimed length (found by reading at most one byte past it).
pub fn read_idx_file(path: &Path) -> Result<Vec<u8>, MnistError> {
    read_idx_file_limited(path, path, MAX_FILE_BYTES)
}

/// [`read_idx_file`] with another limit than [`MAX_FILE_BYTES`] on the
/// length the header may claim, and errors naming `shown` instead of `path`.
pub(crate) fn read_idx_file_limited(
    path: &Path,
    shown: &Path,
    limit: usize,
) -> Result<Vec<u8>, MnistError> {
    let io_error = |source: io::Error| MnistError::Io { path: shown.to_path_buf(), source };
    let mut file = File::open(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    let mut sniff = [0u8; 2];
    let n = read_up_to(&mut file, &mut sniff).map_err(io_error)?;
    let head = sniff.get(..n).unwrap_or_default();
    let stream = head.chain(file);
    if head == GZIP_MAGIC {
        read_idx_stream(MultiGzDecoder::new(stream), shown, None, limit)
    } else {
        read_idx_stream(stream, shown, metadata.is_file().then_some(metadata.len()), limit)
    }
}

/// Reads a gzipped IDX file from `compressed` as [`read_idx_file`] reads a
/// gzipped file, with `limit` in place of [`MAX_FILE_BYTES`] (errors name the
/// path `<gzip stream>`). Not part of the API: it exposes the bounded reader
/// to the fuzzers and the tests of hostile input.
#[doc(hidden)]
pub fn read_idx_gzip<R: Read>(compressed: R, limit: usize) -> Result<Vec<u8>, MnistError> {
    let stream = MultiGzDecoder::new(compressed);
    read_idx_stream(stream, Path::new("<gzip stream>"), None, limit)
}

/// Reads an IDX file from `reader`: compressed if `file_len` is `None`
/// (read errors are then gzip errors), else a raw file of that length on disk.
/// A header may claim at most `limit` bytes.
fn read_idx_stream<R: Read>(
    mut reader: R,
    path: &Path,
    file_len: Option<u64>,
    limit: usize,
) -> Result<Vec<u8>, MnistError> {
    let read_error = |source: io::Error| match file_len {
        Some(_) => MnistError::Io { path: path.to_path_buf(), source },
        None => MnistError::Gzip { path: path.to_path_buf(), source },
    };
    let idx_error = |source: IdxError| MnistError::Idx { path: path.to_path_buf(), source };

    // The header, in two steps: the magic number gives its length.
    let mut head = [0u8; MAX_HEADER_LEN];
    let got = read_up_to(&mut reader, head.get_mut(..4).unwrap_or_default()).map_err(read_error)?;
    let header_len = match idx::header_len(&head) {
        _ if got < 4 => {
            return Err(idx_error(IdxError::TooShort { len: got, needed: 4 }));
        }
        Ok(Some(len)) => len,
        Ok(None) => {
            return Err(idx_error(IdxError::TooShort { len: got, needed: 4 }));
        }
        Err(e) => return Err(idx_error(e)),
    };
    let rest = head.get_mut(4..header_len).unwrap_or_default();
    let got = read_up_to(&mut reader, rest).map_err(read_error)?.saturating_add(4);
    let header_bytes = head.get(..got).unwrap_or_default();
    let header = match idx::parse_header(header_bytes) {
        Ok(Some(header)) => header,
        Ok(None) => {
            return Err(idx_error(IdxError::TooShort { len: got, needed: header_len }));
        }
        Err(e) => return Err(idx_error(e)),
    };

    // Checks before reading the data.
    let total = header.total_len();
    if total > limit {
        return Err(MnistError::TooLarge { path: path.to_path_buf(), header, limit });
    }
    if let Some(len) = file_len
        && u64::try_from(total).ok() != Some(len)
    {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        return Err(idx_error(IdxError::LengthMismatch { len, header }));
    }

    // The data, and one byte more to see whether the file goes on.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(header_bytes);
    let limit = total.saturating_add(1);
    let first = if file_len.is_some() { limit } else { FIRST_CHUNK };
    read_limited(&mut reader, &mut bytes, limit, first).map_err(read_error)?;
    if bytes.len() > total {
        return Err(MnistError::TrailingData { path: path.to_path_buf(), header });
    }
    if bytes.len() < total {
        return Err(idx_error(IdxError::LengthMismatch { len: bytes.len(), header }));
    }
    Ok(bytes)
}

/// Reads into `buf` until it is full or `reader` ends, returning how many
/// bytes were read.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(spare) = buf.get_mut(filled..)
        && !spare.is_empty()
    {
        match reader.read(spare) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n.min(spare.len())),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Appends to `buf` what `reader` yields until it ends or `buf` holds `limit`
/// bytes. The buffer grows with the data that arrives, first by `first`
/// bytes, then doubling, never to a capacity above `limit`.
fn read_limited<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
    first: usize,
) -> io::Result<()> {
    let mut filled = buf.len();
    let mut step = first.max(1);
    while filled < limit {
        if filled == buf.len() {
            let grow = step.min(limit.saturating_sub(filled));
            buf.try_reserve_exact(grow)
                .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
            buf.resize(filled.saturating_add(grow), 0);
            step = buf.len();
        }
        let Some(spare) = buf.get_mut(filled..) else {
            break;
        };
        match reader.read(spare) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n.min(spare.len())),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok(())
}

/// Parses an image file's bytes (as [`read_idx_file`] returns them) into
/// images; `path` is only for error messages.
///
/// The file must be a valid IDX file of `u8` values of shape count × 28 × 28
/// (magic number `0x00000803`). Pixel `b` becomes `b / 255`, computed in `T`.
///
/// # Errors
///
/// [`MnistError::Idx`] if `bytes` is not a valid IDX file, and
/// [`MnistError::WrongKind`] if it holds anything but `u8` images of 28 × 28.
pub fn parse_images<T: Float>(bytes: &[u8], path: &Path) -> Result<Vec<Image<T>>, MnistError> {
    Ok(pixels_of(bytes, path)?.map(|p| p.to_vector()).collect())
}

/// Parses an image file's bytes as [`parse_images`] does, keeping each
/// image as its bytes.
///
/// # Errors
///
/// Those of [`parse_images`].
pub fn parse_pixels(bytes: &[u8], path: &Path) -> Result<Vec<Pixels<PIXELS>>, MnistError> {
    Ok(pixels_of(bytes, path)?.collect())
}

/// The images of an image file's bytes, checked as [`parse_images`] does.
fn pixels_of<'a>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<impl Iterator<Item = Pixels<PIXELS>> + 'a, MnistError> {
    let idx = check_images(bytes, path)?;
    let (images, _) = idx.data().as_chunks::<PIXELS>();
    Ok(images.iter().map(|&pixels| Pixels(pixels)))
}

/// Parses a label file's bytes (as [`read_idx_file`] returns them) into
/// labels; `path` is only for error messages.
///
/// The file must be a valid IDX file of `u8` values of shape count (magic
/// number `0x00000801`), each from 0 to 9.
///
/// # Errors
///
/// [`MnistError::Idx`] if `bytes` is not a valid IDX file,
/// [`MnistError::WrongKind`] if it holds anything but a list of `u8`, and
/// [`MnistError::LabelOutOfRange`] for the first label above 9.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<usize>, MnistError> {
    let idx = parse_idx(bytes, path)?;
    if idx.header().magic() != LABELS_MAGIC {
        return Err(wrong_kind(path, Kind::Labels, idx.header()));
    }
    idx.data()
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            if usize::from(value) < CLASSES {
                Ok(usize::from(value))
            } else {
                Err(MnistError::LabelOutOfRange { path: path.to_path_buf(), index, value })
            }
        })
        .collect()
}

/// Parses an image file and checks its kind and shape.
pub(crate) fn check_images<'a>(bytes: &'a [u8], path: &Path) -> Result<idx::Idx<'a>, MnistError> {
    let idx = parse_idx(bytes, path)?;
    match idx.dims() {
        [_, ROWS, COLS] if idx.dtype() == Dtype::U8 => Ok(idx),
        _ => Err(wrong_kind(path, Kind::Images, idx.header())),
    }
}

fn parse_idx<'a>(bytes: &'a [u8], path: &Path) -> Result<idx::Idx<'a>, MnistError> {
    idx::parse(bytes).map_err(|source| MnistError::Idx { path: path.to_path_buf(), source })
}

fn wrong_kind(path: &Path, expected: Kind, header: &Header) -> MnistError {
    MnistError::WrongKind { path: path.to_path_buf(), expected, header: *header }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::error::Error as _;
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::{format, fs, println, vec};

    /// A directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("perceptra-mnist-test-{}-{name}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn idx_file(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    /// `n` images, pixel `p` of image `i` being `(i + p) % 256`.
    fn images(n: u32) -> Vec<u8> {
        let data: Vec<u8> =
            (0..n as usize * PIXELS).map(|k| (k / PIXELS + k % PIXELS) as u8).collect();
        idx_file(IMAGES_MAGIC, &[n, 28, 28], &data)
    }

    fn labels(values: &[u8]) -> Vec<u8> {
        idx_file(LABELS_MAGIC, &[values.len() as u32], values)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A reader that counts the bytes it yields.
    struct Counting<R> {
        inner: R,
        count: usize,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.count += n;
            Ok(n)
        }
    }

    #[test]
    fn loads_raw_and_gzipped_files() {
        let dir = TempDir::new("load");
        dir.write(TRAIN_IMAGES, &images(3));
        dir.write(&format!("{TRAIN_LABELS}.gz"), &gzip(&labels(&[7, 0, 9])));
        dir.write(&format!("{TEST_IMAGES}.gz"), &gzip(&images(2)));
        dir.write(TEST_LABELS, &labels(&[1, 2]));
        // Both raw and gzipped: the raw file wins.
        dir.write(&format!("{TEST_LABELS}.gz"), &gzip(&labels(&[3, 4])));

        let mnist = load::<f32>(&dir.0).unwrap();
        assert_eq!(mnist.train.len(), 3);
        assert_eq!(mnist.train.targets(), &[7, 0, 9]);
        assert_eq!(mnist.test.targets(), &[1, 2]);
        let image = &mnist.train.inputs()[2];
        assert_eq!(image[0], 2.0 / 255.0);
        assert_eq!(image[28], 30.0 / 255.0); // row 1, column 0
        assert_eq!(image[253], 1.0);
        assert_eq!(image[254], 0.0);
        assert_eq!(mnist.test.inputs()[1], mnist.train.inputs()[1]);

        let mnist64 = load::<f64>(&dir.0).unwrap();
        assert_eq!(mnist64.train.inputs()[0][51], 0.2);
        assert_eq!(mnist64.train.inputs()[0][51] as f32, mnist.train.inputs()[0][51]);

        let pixels = load_pixels(&dir.0).unwrap();
        assert_eq!(pixels.train.targets(), mnist.train.targets());
        assert_eq!(pixels.test.targets(), mnist.test.targets());
        assert_eq!(pixels.train.inputs()[2].0[28], 30);
        for (p, image) in pixels.train.inputs().iter().zip(mnist.train.inputs()) {
            assert_eq!(&p.to_vector::<f32>(), image);
        }
        assert_eq!(pixels.test.inputs()[1].to_vector::<f64>(), mnist64.test.inputs()[1]);
    }

    #[test]
    fn reads_gzip_by_content_whatever_the_name() {
        let dir = TempDir::new("sniff");
        let raw = labels(&[1, 2, 3]);
        let a = dir.write("a", &gzip(&raw));
        let b = dir.write("b.gz", &raw);
        assert_eq!(read_idx_file(&a).unwrap(), raw);
        assert_eq!(read_idx_file(&b).unwrap(), raw);
        // Concatenated gzip members make one stream.
        let (first, second) = raw.split_at(5);
        let c = dir.write("c.gz", &[gzip(first), gzip(second)].concat());
        assert_eq!(read_idx_file(&c).unwrap(), raw);
    }

    #[test]
    fn truncated_gzip() {
        let dir = TempDir::new("truncgz");
        let gz = gzip(&images(5));
        let path = dir.write("x.gz", &gz[..gz.len() / 2]);
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(err, MnistError::Gzip { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with(&format!("cannot decompress `{}`: ", path.display())),
            "{err}"
        );
        assert!(err.source().is_some());
        // Missing only the trailer (CRC and length).
        let path = dir.write("y.gz", &gz[..gz.len() - 4]);
        assert!(matches!(read_idx_file(&path), Err(MnistError::Gzip { .. })));
        // A complete gzip stream whose content is short.
        let bytes = images(5);
        let path = dir.write("z.gz", &gzip(&bytes[..bytes.len() - 1]));
        let err = read_idx_file(&path).unwrap_err();
        assert!(
            matches!(err, MnistError::Idx { source: IdxError::LengthMismatch { len, .. }, .. } if len == 16 + 5 * 784 - 1),
            "{err:?}"
        );
        // Shorter than a header.
        let path = dir.write("h.gz", &gzip(&bytes[..9]));
        let err = read_idx_file(&path).unwrap_err();
        assert!(
            matches!(
                err,
                MnistError::Idx { source: IdxError::TooShort { len: 9, needed: 16 }, .. }
            ),
            "{err:?}"
        );
        let path = dir.write("m.gz", &gzip(&bytes[..3]));
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(
            err,
            MnistError::Idx { source: IdxError::TooShort { len: 3, needed: 4 }, .. }
        ));
    }

    #[test]
    fn gzip_with_trailing_data() {
        let dir = TempDir::new("trailgz");
        let mut bytes = labels(&[1, 2, 3]);
        bytes.push(4);
        let path = dir.write("x.gz", &gzip(&bytes));
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(err, MnistError::TrailingData { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` goes on past the 11 bytes its IDX header claims (u8 data of shape 3)",
                path.display()
            )
        );
        // Garbage after the gzip stream.
        let mut gz = gzip(&labels(&[1, 2, 3]));
        gz.extend_from_slice(b"garbage");
        let path = dir.write("y.gz", &gz);
        assert!(matches!(read_idx_file(&path), Err(MnistError::Gzip { .. })));
    }

    #[test]
    fn raw_file_length_is_checked_before_reading() {
        let dir = TempDir::new("raw");
        let mut bytes = labels(&[1, 2, 3]);
        bytes.push(0);
        let path = dir.write("long", &bytes);
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(
            err,
            MnistError::Idx { source: IdxError::LengthMismatch { len: 12, .. }, .. }
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` is not a valid IDX file: file is 12 bytes long, but its header claims 3 = 3 bytes of data \
                 after an 8-byte header",
                path.display()
            )
        );
        // A header claiming 900 MB in a 16-byte file.
        let path = dir.write("short", &idx_file(IMAGES_MAGIC, &[1_000_000, 30, 30], &[]));
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(
            err,
            MnistError::Idx { source: IdxError::LengthMismatch { len: 16, .. }, .. }
        ));
    }

    #[test]
    fn huge_claims_are_rejected_before_reading() {
        let dir = TempDir::new("huge");
        let header = idx_file(IMAGES_MAGIC, &[2_000_000, 28, 28], &[]);
        let path = dir.write("x.gz", &gzip(&header));
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(err, MnistError::TooLarge { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` claims 1568000016 bytes (u8 data of shape 2000000 × 28 × 28), more than the 1073741824 \
                 bytes an MNIST file may take",
                path.display()
            )
        );
        let path = dir.write("x", &header);
        assert!(matches!(read_idx_file(&path), Err(MnistError::TooLarge { .. })));
        // Overflowing claims.
        let path = dir.write("o.gz", &gzip(&idx_file(IMAGES_MAGIC, &[u32::MAX; 3], &[])));
        let err = read_idx_file(&path).unwrap_err();
        assert!(
            matches!(err, MnistError::Idx { source: IdxError::Overflow { .. }, .. }),
            "{err:?}"
        );
        // Within the limit, but the data never comes: the buffer grows only with the data.
        let path = dir.write("y.gz", &gzip(&idx_file(LABELS_MAGIC, &[1_000_000_000], &[1, 2, 3])));
        let err = read_idx_file(&path).unwrap_err();
        assert!(matches!(
            err,
            MnistError::Idx { source: IdxError::LengthMismatch { len: 11, .. }, .. }
        ));
    }

    #[test]
    fn gzip_bomb_is_read_only_to_one_byte_past_the_claim() {
        // 64 MiB of zeros after the header of a 1-image file (800 bytes).
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&idx_file(IMAGES_MAGIC, &[1, 28, 28], &[])).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            encoder.write_all(&zeros).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 1 << 20);

        let mut reader = Counting { inner: MultiGzDecoder::new(&bomb[..]), count: 0 };
        let err =
            read_idx_stream(&mut reader, Path::new("bomb.gz"), None, MAX_FILE_BYTES).unwrap_err();
        assert!(matches!(err, MnistError::TrailingData { .. }), "{err:?}");
        assert_eq!(reader.count, 801);

        let dir = TempDir::new("bomb");
        let path = dir.write(&format!("{TRAIN_IMAGES}.gz"), &bomb);
        assert!(matches!(read_idx_file(&path), Err(MnistError::TrailingData { .. })));
    }

    #[test]
    fn read_limited_never_exceeds_its_limit() {
        for (len, limit, first) in
            [(0, 1, 1), (10, 5, 1), (10, 11, 4), (100_000, 70_001, 3), (5, 100, 1000)]
        {
            let data = vec![7u8; len];
            let mut buf = vec![1, 2];
            read_limited(&mut &data[..], &mut buf, limit, first).unwrap();
            assert_eq!(buf.len(), (len + 2).min(limit.max(2)));
            assert!(buf.capacity() <= limit.max(2), "{len} {limit} {first}: {}", buf.capacity());
        }
    }

    #[test]
    fn labels_out_of_range() {
        let path = Path::new("labels");
        let err = parse_labels(&labels(&[0, 9, 10, 255]), path).unwrap_err();
        assert!(matches!(err, MnistError::LabelOutOfRange { index: 2, value: 10, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "label 2 in `labels` is 10, but MNIST labels are digits from 0 to 9"
        );
        assert_eq!(parse_labels(&labels(&[0, 9]), path).unwrap(), vec![0, 9]);
    }

    #[test]
    fn count_mismatch() {
        let dir = TempDir::new("count");
        let images_path = dir.write("images", &images(3));
        let labels_path = dir.write("labels.gz", &gzip(&labels(&[1, 2])));
        let err = load_pair::<f32>(&images_path, &labels_path).unwrap_err();
        assert!(
            matches!(err, MnistError::CountMismatch { image_count: 3, label_count: 2, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` holds 3 images but `{}` holds 2 labels; each image needs one label",
                images_path.display(),
                labels_path.display()
            )
        );
    }

    #[test]
    fn wrong_kind_of_file() {
        let path = Path::new("train-images-idx3-ubyte");
        let err = parse_images::<f32>(&labels(&[1, 2]), path).unwrap_err();
        assert!(matches!(err, MnistError::WrongKind { expected: Kind::Images, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "`train-images-idx3-ubyte` is not an MNIST image file: expected u8 data of shape count × 28 × 28 \
             (magic number 0x00000803), found u8 data of shape 2 (magic number 0x00000801); this looks like a \
             label file"
        );
        let err = parse_images::<f32>(&idx_file(IMAGES_MAGIC, &[1, 32, 32], &[0; 1024]), path)
            .unwrap_err();
        assert!(err.to_string().contains("found u8 data of shape 1 × 32 × 32"), "{err}");
        let err =
            parse_images::<f32>(&idx_file(0x0D03, &[1, 28, 28], &[0; 3136]), path).unwrap_err();
        assert!(
            err.to_string()
                .contains("found f32 data of shape 1 × 28 × 28 (magic number 0x00000d03)")
        );
        let err = parse_labels(&images(1), Path::new("l")).unwrap_err();
        assert!(err.to_string().ends_with("; this looks like an image file"), "{err}");
        let err = parse_labels(&idx_file(0x0802, &[1, 1], &[0]), Path::new("l")).unwrap_err();
        assert!(matches!(err, MnistError::WrongKind { expected: Kind::Labels, .. }));
        // Not IDX at all.
        let err = parse_images::<f32>(b"<html>", path).unwrap_err();
        assert!(matches!(err, MnistError::Idx { source: IdxError::BadMagic { .. }, .. }));
        assert!(err.source().is_some());
    }

    #[test]
    fn missing_files() {
        let dir = TempDir::new("missing");
        let nowhere = dir.0.join("nowhere");
        let err = load::<f32>(&nowhere).unwrap_err();
        assert!(matches!(err, MnistError::Missing { dir_exists: false, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot find `train-images-idx3-ubyte` or `train-images-idx3-ubyte.gz` in `{}`, which does not \
                 exist: download the MNIST files from https://ossci-datasets.s3.amazonaws.com/mnist/ or set \
                 MNIST_DIR to the directory that holds them",
                nowhere.display()
            )
        );
        // The test labels missing: reported before anything is read.
        dir.write(TRAIN_IMAGES, b"not even IDX");
        dir.write(TRAIN_LABELS, b"");
        dir.write(TEST_IMAGES, b"");
        let err = load::<f32>(&dir.0).unwrap_err();
        assert!(
            matches!(&err, MnistError::Missing { name, dir_exists: true, .. } if name == TEST_LABELS)
        );
        assert!(err.to_string().starts_with("cannot find `t10k-labels-idx1-ubyte` or"), "{err}");
        // An unreadable path.
        let err = read_idx_file(&nowhere).unwrap_err();
        assert!(matches!(err, MnistError::Io { .. }));
        assert!(
            err.to_string().starts_with(&format!("cannot read `{}`: ", nowhere.display())),
            "{err}"
        );
    }

    #[test]
    fn parts_and_variants() {
        let names = Part::ALL.map(Part::name);
        assert_eq!(names, [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]);
        assert_eq!(
            Part::ALL.map(Part::kind),
            [Kind::Images, Kind::Labels, Kind::Images, Kind::Labels]
        );
        assert_eq!(Part::ALL.map(Part::count), [60_000, 60_000, 10_000, 10_000]);
        assert_eq!(Variant::Mnist.to_string(), "MNIST");
        assert_eq!(Variant::Mnist.dir_var(), DIR_VAR);
        assert_eq!(Variant::Mnist.download_url(), DOWNLOAD_URL);
        assert_eq!(Variant::Mnist.class_names()[7], "7");
    }

    #[test]
    fn real_mnist() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/mnist"));
        if !dir.is_dir() {
            println!("skipping: MNIST not found at {}", dir.display());
            return;
        }
        let mnist = load::<f32>(dir).unwrap();
        let pixels = load_pixels(dir).unwrap();
        for (p, image) in pixels.train.inputs().iter().zip(mnist.train.inputs()) {
            assert_eq!(&p.to_vector::<f32>(), image);
        }
        assert_eq!(pixels.train.targets(), mnist.train.targets());
        assert_eq!(pixels.test.len(), 10_000);
        for (set, len, counts) in [
            (&mnist.train, 60_000, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]),
            (&mnist.test, 10_000, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]),
        ] {
            assert_eq!(set.len(), len);
            let mut seen = [0; CLASSES];
            for &label in set.targets() {
                seen[label] += 1;
            }
            assert_eq!(seen, counts);
            for image in set.inputs() {
                assert!(image.iter().all(|&p| (0.0..=1.0).contains(&p)));
            }
            assert!(set.inputs().iter().any(|image| image.iter().any(|&p| p == 1.0)));
        }
    }
}
