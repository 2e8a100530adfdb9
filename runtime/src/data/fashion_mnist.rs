//! Fashion-MNIST: 70,000 images of clothing, shoes and bags from Zalando's
//! catalogue (Xiao, Rasul and Vollgraf, 2017), in ten classes, distributed
//! exactly as MNIST is.
//!
//! The four files have MNIST's names, format and shapes (60,000 training and
//! 10,000 test images of 28 × 28 `u8` pixels, labels 0 to 9; see
//! [`mnist`]), so loading them is [`mnist`]'s work and
//! gives the same [`Mnist`] struct; only the class names, the download source
//! and the messages differ. Label `i` is the class [`CLASS_NAMES`]`[i]`.
//!
//! With the `download` feature, `load_or_download` fetches missing files
//! from [`DOWNLOAD_URL`]. Unlike MNIST's, Fashion-MNIST's files are checked
//! by structure only (IDX header, shape, count, labels in range), not by
//! checksum: see the `download` module for why.
//!
//! Fashion-MNIST is made available under the MIT license.

use std::path::Path;

use crate::Float;
use crate::data::mnist::{self, CLASSES, Mnist, MnistError, MnistPixels, Variant};

/// The classes, by label.
pub const CLASS_NAMES: [&str; CLASSES] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Where the four gzipped files can be downloaded from (plain HTTP: the
/// bucket's website endpoint serves no HTTPS).
pub const DOWNLOAD_URL: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

/// The environment variable that error messages suggest for pointing at the files.
pub const DIR_VAR: &str = "FASHION_MNIST_DIR";

/// The Fashion-MNIST training and test sets: MNIST's struct, with labels
/// naming [`CLASS_NAMES`].
pub type FashionMnist<T> = Mnist<T>;

/// Loads Fashion-MNIST from `dir`, which holds the four files (named as
/// MNIST's are), each raw or gzipped.
///
/// # Errors
///
/// Those of [`mnist::load`], whose [`MnistError::Missing`] here names
/// Fashion-MNIST, its source and [`DIR_VAR`].
pub fn load<T: Float>(dir: impl AsRef<Path>) -> Result<FashionMnist<T>, MnistError> {
    mnist::load_variant(dir.as_ref(), Variant::FashionMnist)
}

/// Loads Fashion-MNIST from `dir` as [`load`] does, keeping each image as
/// its 784 bytes: see [`Pixels`](crate::data::Pixels).
///
/// # Errors
///
/// Those of [`load`].
pub fn load_pixels(dir: impl AsRef<Path>) -> Result<MnistPixels, MnistError> {
    mnist::load_variant_pixels(dir.as_ref(), Variant::FashionMnist)
}

/// Loads Fashion-MNIST from `dir` as [`load`] does if the four files are
/// there, and otherwise first downloads the missing ones into `dir` (creating
/// it) from [`DOWNLOAD_URL`], each checked by structure: see
/// [`download`](crate::data::download).
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
) -> Result<FashionMnist<T>, crate::data::download::DownloadError> {
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
) -> Result<FashionMnist<T>, crate::data::download::DownloadError> {
    let dir = dir.as_ref();
    crate::data::download::download_missing(dir, Variant::FashionMnist, options)?;
    load(dir).map_err(crate::data::download::DownloadError::Load)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn class_names_and_messages() {
        assert_eq!(CLASS_NAMES.len(), 10);
        assert_eq!(CLASS_NAMES[0], "T-shirt/top");
        assert_eq!(CLASS_NAMES[9], "Ankle boot");
        assert_eq!(Variant::FashionMnist.class_names(), CLASS_NAMES);
        assert_eq!(Variant::FashionMnist.to_string(), "Fashion-MNIST");
        let dir = std::env::temp_dir().join("perceptra-fashion-mnist-test-nowhere");
        let err = load::<f32>(&dir).unwrap_err();
        assert_eq!(
            err.to_string(),
            std::format!(
                "cannot find `train-images-idx3-ubyte` or `train-images-idx3-ubyte.gz` in `{}`, which does \
                 not exist: download the Fashion-MNIST files from \
                 http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ or set FASHION_MNIST_DIR to \
                 the directory that holds them",
                dir.display()
            )
        );
    }
}
