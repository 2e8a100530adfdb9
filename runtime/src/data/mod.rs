//! Data: datasets, the IDX format, MNIST.
//!
//! The IDX parser works on bytes in memory and needs neither `std` nor
//! `alloc`; reading files (raw or gzipped) is behind `std`.

#[cfg(feature = "alloc")]
mod dataset;
pub mod idx;
#[cfg(feature = "std")]
pub mod mnist;

#[cfg(feature = "alloc")]
pub use dataset::{Dataset, LengthMismatch};
