//! The IDX file format, in which MNIST is distributed.
//!
//! An IDX file (<http://yann.lecun.com/exdb/mnist/>) is a header followed by
//! the data, with no padding and no trailer:
//!
//! | offset      | size    | content                                                 |
//! |-------------|---------|---------------------------------------------------------|
//! | 0           | 2       | `0x00 0x00`                                             |
//! | 2           | 1       | the type code of the values (see [`Dtype`])             |
//! | 3           | 1       | the number of dimensions `n`                            |
//! | 4           | 4 × `n` | the size of each dimension, a big-endian `u32`          |
//! | 4 + 4 × `n` | rest    | the values, row-major (the last dimension varies fastest), multi-byte values big-endian |
//!
//! The four bytes at offset 0 read as a big-endian `u32` are the *magic
//! number*: `0x00000803` for MNIST images (`u8`, 3 dimensions: count × 28 × 28)
//! and `0x00000801` for MNIST labels (`u8`, 1 dimension: count).
//!
//! The parser borrows the bytes and needs neither `std` nor `alloc`. It
//! never panics: every size is computed with checked arithmetic, and a file
//! is accepted only if its length is exactly what its header claims.
//! [`parse_header`] and [`expected_len`] read the header alone, so a reader of
//! a stream (a gzipped file, say) can learn how many bytes to expect before
//! reading, and allocating, any of them.

use core::fmt;

/// The most dimensions an IDX header may declare here (the format allows 255).
pub const MAX_DIMS: usize = 4;

/// The length of the magic number that starts every IDX file.
const MAGIC_LEN: usize = 4;

/// The longest header this parser accepts: the magic number and
/// [`MAX_DIMS`] dimensions.
pub const MAX_HEADER_LEN: usize = MAGIC_LEN + 4 * MAX_DIMS;

/// The type of the values in an IDX file, given by byte 2 of the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// Unsigned byte, code `0x08`.
    U8,
    /// Signed byte, code `0x09`.
    I8,
    /// Big-endian `i16`, code `0x0B`.
    I16,
    /// Big-endian `i32`, code `0x0C`.
    I32,
    /// Big-endian IEEE `f32`, code `0x0D`.
    F32,
    /// Big-endian IEEE `f64`, code `0x0E`.
    F64,
}

impl Dtype {
    /// Every type, in the order of their codes.
    pub const ALL: [Dtype; 6] =
        [Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::F32, Dtype::F64];

    /// The type with this code (`0x08` → `U8`, …), or `None` for an unknown code.
    pub const fn from_code(code: u8) -> Option<Dtype> {
        match code {
            0x08 => Some(Dtype::U8),
            0x09 => Some(Dtype::I8),
            0x0B => Some(Dtype::I16),
            0x0C => Some(Dtype::I32),
            0x0D => Some(Dtype::F32),
            0x0E => Some(Dtype::F64),
            _ => None,
        }
    }

    /// The code of this type in an IDX header (`U8` → `0x08`, …).
    pub const fn code(self) -> u8 {
        match self {
            Dtype::U8 => 0x08,
            Dtype::I8 => 0x09,
            Dtype::I16 => 0x0B,
            Dtype::I32 => 0x0C,
            Dtype::F32 => 0x0D,
            Dtype::F64 => 0x0E,
        }
    }

    /// The size of one value in bytes: 1, 1, 2, 4, 4 or 8.
    pub const fn size(self) -> usize {
        match self {
            Dtype::U8 | Dtype::I8 => 1,
            Dtype::I16 => 2,
            Dtype::I32 | Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// The Rust name of the type: `"u8"`, `"i8"`, `"i16"`, `"i32"`, `"f32"` or `"f64"`.
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::U8 => "u8",
            Dtype::I8 => "i8",
            Dtype::I16 => "i16",
            Dtype::I32 => "i32",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed IDX header: the type and shape of the data, and the sizes they imply.
///
/// Every size it reports fits in `usize`: [`parse_header`] rejects a header
/// whose sizes overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    dtype: Dtype,
    ndims: u8,
    dims: [usize; MAX_DIMS],
    len: usize,
    data_len: usize,
    total_len: usize,
}

impl Header {
    /// The type of the values.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The size of each dimension, outermost first (1 to [`MAX_DIMS`] of them).
    pub fn dims(&self) -> &[usize] {
        self.dims.get(..usize::from(self.ndims)).unwrap_or(&[])
    }

    /// The magic number: the first four bytes as a big-endian `u32`,
    /// `0x0000_TTNN` for type code `TT` and `NN` dimensions.
    pub fn magic(&self) -> u32 {
        u32::from(self.dtype.code()) << 8 | u32::from(self.ndims)
    }

    /// The length of the header in bytes: 4 + 4 × the number of dimensions.
    pub fn header_len(&self) -> usize {
        usize::from(self.ndims).saturating_mul(4).saturating_add(MAGIC_LEN)
    }

    /// The number of values: the product of the dimensions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no values (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length of the data in bytes: [`len`](Self::len) × the size of a value.
    pub fn data_len(&self) -> usize {
        self.data_len
    }

    /// The length of the whole file in bytes: header and data.
    pub fn total_len(&self) -> usize {
        self.total_len
    }
}

/// Shows the type and shape: `u8 data of shape 60000 × 28 × 28`.
impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} data of shape ", self.dtype)?;
        write_dims(f, self.dims())
    }
}

/// A parsed IDX file: its header and the bytes of its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Idx<'a> {
    header: Header,
    data: &'a [u8],
}

impl<'a> Idx<'a> {
    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The type of the values.
    pub fn dtype(&self) -> Dtype {
        self.header.dtype
    }

    /// The size of each dimension, outermost first (1 to [`MAX_DIMS`] of them).
    pub fn dims(&self) -> &[usize] {
        self.header.dims()
    }

    /// The data after the header, exactly [`len`](Self::len) ×
    /// [`dtype().size()`](Dtype::size) bytes, row-major, multi-byte values big-endian.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The number of values: the product of the dimensions.
    pub fn len(&self) -> usize {
        self.header.len
    }

    /// Whether there are no values (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.header.len == 0
    }
}

/// Why bytes are not an IDX file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdxError {
    /// The file ends before its header does.
    TooShort {
        /// The length of the file in bytes.
        len: usize,
        /// The length of the header: 4 if the magic number itself is cut
        /// short, else 4 + 4 × the number of dimensions it declares.
        needed: usize,
    },
    /// The first two bytes are not zero.
    BadMagic {
        /// The first two bytes.
        found: [u8; 2],
    },
    /// The type code (byte 2) is none of those of [`Dtype`].
    UnknownDtype {
        /// The type code.
        code: u8,
    },
    /// The number of dimensions (byte 3) is 0 or more than [`MAX_DIMS`].
    BadDimCount {
        /// The number of dimensions.
        ndims: u8,
    },
    /// The size of the data, or of the file, does not fit in `usize`.
    Overflow {
        /// The type of the values.
        dtype: Dtype,
        /// The number of dimensions (the first `ndims` of `dims` are used).
        ndims: u8,
        /// The dimensions, as written in the header.
        dims: [u32; MAX_DIMS],
    },
    /// The file is shorter or longer than its header says.
    LengthMismatch {
        /// The length of the file in bytes.
        len: usize,
        /// The header.
        header: Header,
    },
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IdxError::TooShort { len, needed } if needed <= MAGIC_LEN => write!(
                f,
                "file is {len} {} long, too short for an IDX header, which starts with a 4-byte magic number",
                bytes(len)
            ),
            IdxError::TooShort { len, needed } => write!(
                f,
                "file is {len} {} long, but its magic number announces {} dimensions, which take {} {needed}-byte header",
                bytes(len),
                needed.saturating_sub(MAGIC_LEN) / 4,
                a(needed)
            ),
            IdxError::BadMagic { found: [a, b] } => {
                write!(
                    f,
                    "bad magic number: an IDX file starts with bytes 0x00 0x00, but this one starts with {a:#04x} {b:#04x}"
                )?;
                if [a, b] == [0x1F, 0x8B] {
                    f.write_str(" (a gzip header: decompress the file first)")
                } else if a == b'<' {
                    f.write_str(" (`<`: an HTML page, perhaps, saved by a failed download?)")
                } else {
                    Ok(())
                }
            }
            IdxError::UnknownDtype { code } => {
                write!(
                    f,
                    "unknown IDX type code {code:#04x} in byte 2 of the magic number; the known codes are "
                )?;
                for (i, dtype) in Dtype::ALL.iter().enumerate() {
                    let sep = match i {
                        0 => "",
                        5 => " and ",
                        _ => ", ",
                    };
                    write!(f, "{sep}{:#04x} ({dtype})", dtype.code())?;
                }
                Ok(())
            }
            IdxError::BadDimCount { ndims: 0 } => {
                f.write_str("IDX header declares 0 dimensions; at least 1 is needed")
            }
            IdxError::BadDimCount { ndims } => {
                write!(
                    f,
                    "IDX header declares {ndims} dimensions; at most {MAX_DIMS} are supported"
                )
            }
            IdxError::Overflow { dtype, ndims, dims } => {
                f.write_str("IDX header claims ")?;
                write_dims(f, dims.get(..usize::from(ndims)).unwrap_or(&[]))?;
                write!(
                    f,
                    " values of {} {} ({dtype}), a size that overflows the {}-bit address space",
                    dtype.size(),
                    bytes(dtype.size()),
                    usize::BITS
                )
            }
            IdxError::LengthMismatch { len, header } => {
                write!(f, "file is {len} {} long, but its header claims ", bytes(len))?;
                write_dims(f, header.dims())?;
                if header.dtype.size() > 1 {
                    write!(f, " × {} bytes ({})", header.dtype.size(), header.dtype)?;
                }
                write!(
                    f,
                    " = {} {} of data after {} {}-byte header",
                    header.data_len,
                    bytes(header.data_len),
                    a(header.header_len()),
                    header.header_len()
                )
            }
        }
    }
}

impl core::error::Error for IdxError {}

/// `"byte"` or `"bytes"`.
fn bytes(n: usize) -> &'static str {
    if n == 1 { "byte" } else { "bytes" }
}

/// The article before a number: "an 8", "a 16".
fn a(n: usize) -> &'static str {
    if matches!(n, 8 | 11 | 18) { "an" } else { "a" }
}

/// Writes dimensions as `60000 × 28 × 28`.
fn write_dims<D: fmt::Display>(f: &mut fmt::Formatter<'_>, dims: &[D]) -> fmt::Result {
    for (i, d) in dims.iter().enumerate() {
        if i > 0 {
            f.write_str(" × ")?;
        }
        write!(f, "{d}")?;
    }
    Ok(())
}

/// The length of the header that `bytes` starts, read from its 4-byte magic
/// number: `Ok(Some(4 + 4 × dimensions))`, or `Ok(None)` if `bytes` is
/// shorter than 4 bytes.
///
/// # Errors
///
/// [`IdxError::BadMagic`], [`IdxError::UnknownDtype`] or
/// [`IdxError::BadDimCount`] if the magic number is not two zero bytes, a
/// known type code and 1 to [`MAX_DIMS`] dimensions.
pub fn header_len(bytes: &[u8]) -> Result<Option<usize>, IdxError> {
    let Some(&[a, b, code, ndims]) = bytes.first_chunk::<MAGIC_LEN>() else {
        return Ok(None);
    };
    if [a, b] != [0, 0] {
        return Err(IdxError::BadMagic { found: [a, b] });
    }
    if Dtype::from_code(code).is_none() {
        return Err(IdxError::UnknownDtype { code });
    }
    match usize::from(ndims) {
        n @ 1..=MAX_DIMS => Ok(Some(n.saturating_mul(4).saturating_add(MAGIC_LEN))),
        _ => Err(IdxError::BadDimCount { ndims }),
    }
}

/// Parses the header that `bytes` starts, ignoring whatever follows it:
/// `Ok(None)` if `bytes` ends before the header does.
///
/// A dimension of 0 makes the data empty, whatever the other dimensions are.
///
/// # Errors
///
/// Those of [`header_len`] if the magic number is wrong, and
/// [`IdxError::Overflow`] if the size of the data or of the file overflows
/// `usize`.
pub fn parse_header(bytes: &[u8]) -> Result<Option<Header>, IdxError> {
    let Some(header_len) = header_len(bytes)? else {
        return Ok(None);
    };
    let (Some(&[_, _, code, ndims]), Some(dim_bytes)) =
        (bytes.first_chunk::<MAGIC_LEN>(), bytes.get(MAGIC_LEN..header_len))
    else {
        return Ok(None);
    };
    let dtype = Dtype::from_code(code).ok_or(IdxError::UnknownDtype { code })?;

    let mut raw = [0u32; MAX_DIMS];
    let (dim_chunks, _) = dim_bytes.as_chunks::<4>();
    for (slot, chunk) in raw.iter_mut().zip(dim_chunks) {
        *slot = u32::from_be_bytes(*chunk);
    }
    let overflow = IdxError::Overflow { dtype, ndims, dims: raw };

    let mut dims = [0usize; MAX_DIMS];
    for (slot, &d) in dims.iter_mut().zip(&raw).take(usize::from(ndims)) {
        *slot = usize::try_from(d).map_err(|_| overflow)?;
    }
    let used = dims.get(..usize::from(ndims)).unwrap_or(&[]);
    let len = if used.contains(&0) {
        0
    } else {
        used.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or(overflow)?
    };
    let data_len = len.checked_mul(dtype.size()).ok_or(overflow)?;
    let total_len = data_len.checked_add(header_len).ok_or(overflow)?;
    Ok(Some(Header { dtype, ndims, dims, len, data_len, total_len }))
}

/// The length of the whole file, header and data, claimed by the header that
/// `bytes` starts: `Ok(None)` if `bytes` ends before the header does.
///
/// For a stream: read until this returns `Some` (at most
/// [`MAX_HEADER_LEN`] bytes), then expect exactly that many bytes in all.
///
/// # Errors
///
/// Those of [`parse_header`].
pub fn expected_len(bytes: &[u8]) -> Result<Option<usize>, IdxError> {
    Ok(parse_header(bytes)?.map(|h| h.total_len))
}

/// Parses a whole IDX file, which must be exactly as long as its header
/// says: neither truncated nor followed by trailing bytes.
///
/// # Errors
///
/// Those of [`parse_header`]; [`IdxError::TooShort`] if `bytes` ends within
/// the header, and [`IdxError::LengthMismatch`] if the data is shorter or
/// longer than the header claims.
pub fn parse(bytes: &[u8]) -> Result<Idx<'_>, IdxError> {
    let Some(header) = parse_header(bytes)? else {
        let needed = header_len(bytes)?.unwrap_or(MAGIC_LEN);
        return Err(IdxError::TooShort { len: bytes.len(), needed });
    };
    match bytes.split_at_checked(header.header_len()) {
        Some((_, data)) if data.len() == header.data_len => Ok(Idx { header, data }),
        _ => Err(IdxError::LengthMismatch { len: bytes.len(), header }),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    /// An IDX file with this type code, these dimensions and this data.
    fn file(code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&[0, 0, code, dims.len() as u8]);
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn tiny() -> Vec<u8> {
        let data: Vec<u8> = (0..24).collect();
        file(0x08, &[2, 3, 4], &data)
    }

    #[test]
    fn parses_a_tiny_file() {
        let bytes = tiny();
        let idx = parse(&bytes).unwrap();
        assert_eq!(idx.dtype(), Dtype::U8);
        assert_eq!(idx.dims(), &[2, 3, 4]);
        assert_eq!(idx.len(), 24);
        assert!(!idx.is_empty());
        assert_eq!(idx.data(), &bytes[16..]);
        let h = idx.header();
        assert_eq!((h.header_len(), h.data_len(), h.total_len()), (16, 24, 40));
        assert_eq!(h.magic(), 0x0000_0803);
        assert_eq!(h.to_string(), "u8 data of shape 2 × 3 × 4");
        assert_eq!(expected_len(&bytes[..16]), Ok(Some(40)));
        assert_eq!(header_len(&bytes[..4]), Ok(Some(16)));
    }

    #[test]
    fn parses_every_dtype() {
        for dtype in Dtype::ALL {
            assert_eq!(Dtype::from_code(dtype.code()), Some(dtype));
            let data: Vec<u8> = (0..3 * dtype.size() as u8).collect();
            let bytes = file(dtype.code(), &[3], &data);
            let idx = parse(&bytes).unwrap();
            assert_eq!(idx.dtype(), dtype);
            assert_eq!(idx.len(), 3);
            assert_eq!(idx.data(), &data[..]);
        }
        let sizes = Dtype::ALL.map(Dtype::size);
        assert_eq!(sizes, [1, 1, 2, 4, 4, 8]);
    }

    #[test]
    fn zero_dimension_means_empty_data_whatever_the_others() {
        let bytes = file(0x0E, &[u32::MAX, u32::MAX, u32::MAX, 0], &[]);
        let idx = parse(&bytes).unwrap();
        assert!(idx.is_empty());
        assert_eq!(idx.data(), &[] as &[u8]);
        assert_eq!(idx.header().total_len(), 20);
    }

    #[test]
    fn too_short() {
        for n in 0..4 {
            let err = parse(&tiny()[..n]).unwrap_err();
            assert_eq!(err, IdxError::TooShort { len: n, needed: 4 });
        }
        assert_eq!(
            parse(&[]).unwrap_err().to_string(),
            "file is 0 bytes long, too short for an IDX header, which starts with a 4-byte magic number"
        );
        let err = parse(&tiny()[..10]).unwrap_err();
        assert_eq!(err, IdxError::TooShort { len: 10, needed: 16 });
        assert_eq!(
            err.to_string(),
            "file is 10 bytes long, but its magic number announces 3 dimensions, which take a 16-byte header"
        );
        assert_eq!(expected_len(&tiny()[..10]), Ok(None));
        assert_eq!(header_len(&tiny()[..3]), Ok(None));
    }

    #[test]
    fn bad_magic() {
        let mut bytes = tiny();
        bytes[0] = 0x1F;
        bytes[1] = 0x8B;
        let err = parse(&bytes).unwrap_err();
        assert_eq!(err, IdxError::BadMagic { found: [0x1F, 0x8B] });
        assert_eq!(
            err.to_string(),
            "bad magic number: an IDX file starts with bytes 0x00 0x00, but this one starts with 0x1f 0x8b \
             (a gzip header: decompress the file first)"
        );
        let err = parse(b"<!DOCTYPE html>").unwrap_err();
        assert!(err.to_string().contains("HTML"), "{err}");
        bytes[0] = 0;
        assert_eq!(parse(&bytes).unwrap_err(), IdxError::BadMagic { found: [0, 0x8B] });
        assert_eq!(header_len(&bytes), Err(IdxError::BadMagic { found: [0, 0x8B] }));
    }

    #[test]
    fn unknown_dtype() {
        let mut bytes = tiny();
        bytes[2] = 0x0A;
        let err = parse(&bytes).unwrap_err();
        assert_eq!(err, IdxError::UnknownDtype { code: 0x0A });
        assert_eq!(
            err.to_string(),
            "unknown IDX type code 0x0a in byte 2 of the magic number; the known codes are 0x08 (u8), \
             0x09 (i8), 0x0b (i16), 0x0c (i32), 0x0d (f32) and 0x0e (f64)"
        );
    }

    #[test]
    fn zero_or_too_many_dimensions() {
        let err = parse(&[0, 0, 8, 0]).unwrap_err();
        assert_eq!(err, IdxError::BadDimCount { ndims: 0 });
        assert_eq!(err.to_string(), "IDX header declares 0 dimensions; at least 1 is needed");
        let bytes = file(0x08, &[1, 1, 1, 1, 1], &[7]);
        let err = parse(&bytes).unwrap_err();
        assert_eq!(err, IdxError::BadDimCount { ndims: 5 });
        assert_eq!(err.to_string(), "IDX header declares 5 dimensions; at most 4 are supported");
        assert_eq!(parse(&[0, 0, 8, 255]).unwrap_err(), IdxError::BadDimCount { ndims: 255 });
        // Four are fine.
        assert!(parse(&file(0x08, &[1, 1, 1, 1], &[7])).is_ok());
    }

    #[test]
    fn overflow() {
        let bytes = file(0x08, &[u32::MAX; 3], &[1, 2, 3]);
        let err = parse(&bytes).unwrap_err();
        assert_eq!(
            err,
            IdxError::Overflow {
                dtype: Dtype::U8,
                ndims: 3,
                dims: [u32::MAX, u32::MAX, u32::MAX, 0]
            }
        );
        assert_eq!(
            err.to_string(),
            std::format!(
                "IDX header claims 4294967295 × 4294967295 × 4294967295 values of 1 byte (u8), \
                 a size that overflows the {}-bit address space",
                usize::BITS
            )
        );
        assert_eq!(expected_len(&bytes), Err(err));
        // The product fits, the size in bytes does not.
        if usize::BITS == 64 {
            let bytes = file(0x0E, &[u32::MAX, u32::MAX], &[]);
            assert!(matches!(parse(&bytes), Err(IdxError::Overflow { dtype: Dtype::F64, .. })));
        }
    }

    #[test]
    fn length_must_match_the_header() {
        // A huge claimed size with a short file.
        let bytes = file(0x08, &[60000, 28, 28], &[0; 12]);
        let err = parse(&bytes[..12]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "file is 12 bytes long, but its magic number announces 3 dimensions, which take a 16-byte header"
        );
        let err = parse(&bytes).unwrap_err();
        assert!(matches!(err, IdxError::LengthMismatch { len: 28, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "file is 28 bytes long, but its header claims 60000 × 28 × 28 = 47040000 bytes of data \
             after a 16-byte header"
        );
        // Larger values.
        let bytes = file(0x0D, &[60000, 28, 28], &[]);
        assert_eq!(
            parse(&bytes).unwrap_err().to_string(),
            "file is 16 bytes long, but its header claims 60000 × 28 × 28 × 4 bytes (f32) = 188160000 bytes \
             of data after a 16-byte header"
        );
        // One byte short, one byte over.
        let good = tiny();
        let err = parse(&good[..39]).unwrap_err();
        assert!(
            matches!(err, IdxError::LengthMismatch { len: 39, header } if header.total_len() == 40)
        );
        let mut long = good.clone();
        long.push(0);
        let err = parse(&long).unwrap_err();
        assert!(
            matches!(err, IdxError::LengthMismatch { len: 41, header } if header.total_len() == 40)
        );
        assert_eq!(
            err.to_string(),
            "file is 41 bytes long, but its header claims 2 × 3 × 4 = 24 bytes of data after a 16-byte header"
        );
    }

    /// Checks what holds of any result of `parse`, Ok or Err.
    fn check(bytes: &[u8]) {
        let parsed = parse(bytes);
        let expected = expected_len(bytes);
        match parsed {
            Ok(idx) => {
                assert_eq!(expected, Ok(Some(bytes.len())));
                assert_eq!(idx.data().len(), idx.len() * idx.dtype().size());
                assert_eq!(idx.dims().iter().product::<usize>(), idx.len());
            }
            Err(err) => {
                assert!(!err.to_string().is_empty());
                if let Ok(Some(n)) = expected {
                    assert_ne!(n, bytes.len());
                }
            }
        }
    }

    #[test]
    fn never_panics_on_prefixes_or_header_mutations() {
        let good = tiny();
        for n in 0..=good.len() {
            check(&good[..n]);
            assert_eq!(parse(&good[..n]).is_ok(), n == good.len());
        }
        for files in [good, file(0x0D, &[2, 1, 1, 1], &[1; 8])] {
            for pos in 0..16 {
                for value in 0..=255 {
                    let mut bytes = files.clone();
                    bytes[pos] = value;
                    check(&bytes);
                    check(&bytes[..pos + 1]);
                }
            }
        }
    }
}
