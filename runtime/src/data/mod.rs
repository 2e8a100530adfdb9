//! Data: datasets, samples stored as pixels, the IDX format, MNIST and
//! Fashion-MNIST, CSV files, synthetic sets and normalisation.
//!
//! The IDX parser works on bytes in memory and needs neither `std` nor
//! `alloc`; datasets, synthetic sets and normalisation need `alloc`; reading
//! files (IDX raw or gzipped, CSV) is behind `std`, and downloading MNIST and
//! Fashion-MNIST behind `download`.

#[cfg(feature = "std")]
pub mod csv;
#[cfg(feature = "alloc")]
mod dataset;
#[cfg(feature = "download")]
pub mod download;
#[cfg(feature = "std")]
pub mod fashion_mnist;
pub mod idx;
#[cfg(feature = "std")]
pub mod mnist;
#[cfg(feature = "alloc")]
pub mod normalize;
mod sample;
#[cfg(feature = "alloc")]
pub mod synthetic;

#[cfg(feature = "std")]
pub use csv::{Column, CsvError, CsvOptions, Labels};
#[cfg(feature = "alloc")]
pub use dataset::{Dataset, LengthMismatch};
#[cfg(feature = "download")]
pub use download::{DownloadError, DownloadOptions};
#[cfg(feature = "std")]
pub use mnist::{Mnist, MnistError, MnistPixels, Variant};
#[cfg(feature = "alloc")]
pub use normalize::{MinMax, Standardize, scale};
pub use sample::{Pixels, Sample};
#[cfg(feature = "alloc")]
pub use synthetic::Centers;
