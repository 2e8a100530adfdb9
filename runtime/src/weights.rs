//! Weight files: [safetensors](https://huggingface.co/docs/safetensors) with
//! the tensor names of the equivalent PyTorch `nn.Sequential`'s `state_dict`.
//!
//! A network declared as `input: 784, Dense(128), ReLU, Dense(10)` saves
//! `0.weight` (`[128, 784]`), `0.bias`, `2.weight` and `2.bias`: the file
//! `safetensors.torch.save_file(model.state_dict(), path)` writes for
//! `nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))`, and
//! either side loads the other's. safetensors is a header of JSON and raw
//! little-endian data: loading one parses and copies, it never runs code.
//!
//! Loading checks every name, dtype and shape before it changes anything, and
//! reports the first mismatch with the tensor's name and both shapes. A file
//! that is truncated, corrupted or larger than a file for this network can be
//! is an error, never a panic, and never an allocation the file's size does
//! not justify. Writes are atomic ([`write_atomic`]): a crash in the middle of
//! a save leaves the previous file whole.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::vec::Vec;
use std::{fmt, format};

use safetensors::{Dtype, SafeTensors, View};

use crate::{Float, Network, NetworkMut, TensorInfo};

/// The largest header safetensors accepts (100 MB); a file for a network is
/// at most this plus its tensors' bytes.
const MAX_HEADER: u64 = 100_000_000;

/// Metadata key naming the network a file was saved from.
pub const NETWORK_KEY: &str = "perceptra.network";

/// What went wrong reading or writing a weight file.
#[derive(Debug)]
pub struct WeightsError {
    path: Option<PathBuf>,
    kind: WeightsErrorKind,
}

/// The kinds of [`WeightsError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum WeightsErrorKind {
    /// Reading or writing failed.
    Io(io::Error),
    /// The file is larger than any file for this network can be.
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The largest size that could hold this network's tensors.
        limit: u64,
    },
    /// Not a well-formed safetensors file (truncated, corrupted, not safetensors).
    Format(String),
    /// A tensor the network needs is absent.
    Missing {
        /// Its name.
        tensor: String,
    },
    /// A tensor the network does not have.
    Unexpected {
        /// Its name.
        tensor: String,
    },
    /// A tensor whose element type is not `F32` or `F64`.
    Dtype {
        /// Its name.
        tensor: String,
        /// The type found.
        found: String,
    },
    /// A tensor of the wrong shape.
    Shape {
        /// Its name.
        tensor: String,
        /// The shape the network needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A metadata entry that is missing or cannot be read.
    Metadata {
        /// The key.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl WeightsError {
    pub(crate) fn new(kind: WeightsErrorKind) -> Self {
        WeightsError { path: None, kind }
    }

    /// The file, when the error is about one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &WeightsErrorKind {
        &self.kind
    }

    pub(crate) fn at(mut self, path: &Path) -> Self {
        self.path.get_or_insert_with(|| path.to_path_buf());
        self
    }
}

fn shape(s: &[usize]) -> String {
    let dims: Vec<String> = s.iter().map(ToString::to_string).collect();
    format!("[{}]", dims.join(", "))
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        match &self.kind {
            WeightsErrorKind::Io(e) => write!(f, "{e}"),
            WeightsErrorKind::TooLarge { size, limit } => write!(
                f,
                "file is {size} bytes, more than the {limit} a file for this network can be"
            ),
            WeightsErrorKind::Format(e) => write!(f, "not a valid safetensors file: {e}"),
            WeightsErrorKind::Missing { tensor } => write!(f, "tensor `{tensor}` is missing"),
            WeightsErrorKind::Unexpected { tensor } => {
                write!(f, "unexpected tensor `{tensor}`: the network has no such parameter")
            }
            WeightsErrorKind::Dtype { tensor, found } => {
                write!(f, "tensor `{tensor}` is {found}; expected F32 or F64")
            }
            WeightsErrorKind::Shape { tensor, expected, found } => write!(
                f,
                "tensor `{tensor}` has shape {}, but the network expects {}",
                shape(found),
                shape(expected)
            ),
            WeightsErrorKind::Metadata { key, problem } => {
                write!(f, "metadata `{key}`: {problem}")
            }
        }
    }
}

impl std::error::Error for WeightsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            WeightsErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// One tensor to write: a name, a PyTorch shape and its scalars.
pub(crate) struct Entry<'a, T> {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: &'a [T],
}

struct Bytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Bytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn dtype_of<T: Float>() -> Dtype {
    if core::mem::size_of::<T>() == 4 { Dtype::F32 } else { Dtype::F64 }
}

fn le_bytes<T: Float>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(core::mem::size_of_val(values));
    for &v in values {
        if core::mem::size_of::<T>() == 4 {
            out.extend_from_slice(&(v.as_f64() as f32).to_le_bytes());
        } else {
            out.extend_from_slice(&v.as_f64().to_le_bytes());
        }
    }
    out
}

/// Serialises tensors and metadata as safetensors bytes.
pub(crate) fn serialize<T: Float>(
    entries: &[Entry<'_, T>],
    metadata: HashMap<String, String>,
) -> Vec<u8> {
    let bytes: Vec<(String, Bytes)> = entries
        .iter()
        .map(|e| {
            let data = le_bytes(e.values);
            (e.name.clone(), Bytes { dtype: dtype_of::<T>(), shape: e.shape.clone(), data })
        })
        .collect();
    let views = bytes.iter().map(|(name, b)| (name.as_str(), b));
    match safetensors::serialize(views, Some(metadata)) {
        Ok(bytes) => bytes,
        // Only a header over 100 MB fails, which tensor names of a declared
        // network cannot produce.
        Err(e) => unreachable!("safetensors refused a network's tensors: {e}"),
    }
}

/// The tensors of a network, named and shaped as PyTorch's `state_dict`.
pub(crate) fn network_entries<N: Network + ?Sized>(
    params: &[N::Scalar],
) -> Vec<Entry<'_, N::Scalar>> {
    tensors::<N>()
        .map(|t| Entry {
            name: t.name.to_string(),
            shape: t.shape.to_vec(),
            values: &params[t.offset..t.offset + t.len],
        })
        .collect()
}

/// Every parameter tensor of `N`, in `state_dict` order.
pub(crate) fn tensors<N: Network + ?Sized>() -> impl Iterator<Item = &'static TensorInfo> {
    N::LAYERS.iter().flat_map(|l| l.tensors.iter())
}

/// A parsed safetensors file, checked as a whole.
pub(crate) struct Parsed<'a> {
    tensors: SafeTensors<'a>,
    metadata: HashMap<String, String>,
}

/// Checks that no tensor of a safetensors file ends past the end of the
/// file, before the `safetensors` crate reads it: it adds the end of the
/// last tensor to the header's length unchecked, which overflows (a panic
/// with overflow checks on) for tensors that end near `usize::MAX`, each of a
/// valid size. A header that is not a JSON object is left for it to report.
fn check_offsets(bytes: &[u8]) -> Result<(), WeightsError> {
    let header = bytes
        .first_chunk::<8>()
        .and_then(|n| usize::try_from(u64::from_le_bytes(*n)).ok())
        .filter(|&n| n as u64 <= MAX_HEADER)
        .and_then(|n| bytes.get(8..8 + n));
    let Some(header) = header else { return Ok(()) };
    let Ok(entries) = serde_json::from_slice::<HashMap<String, serde_json::Value>>(header) else {
        return Ok(());
    };
    for (name, info) in &entries {
        let end = info.get("data_offsets").and_then(|o| o.get(1)).and_then(|e| e.as_u64());
        if let Some(end) = end
            && end > bytes.len() as u64
        {
            return Err(WeightsError::new(WeightsErrorKind::Format(format!(
                "tensor `{name}` ends at byte {end} of the data, past the end of the file ({} bytes)",
                bytes.len()
            ))));
        }
    }
    Ok(())
}

impl<'a> Parsed<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, WeightsError> {
        check_offsets(bytes)?;
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| WeightsError::new(WeightsErrorKind::Format(e.to_string())))?;
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| WeightsError::new(WeightsErrorKind::Format(e.to_string())))?;
        let metadata = meta.metadata().clone().unwrap_or_default();
        Ok(Parsed { tensors, metadata })
    }

    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.metadata
    }

    pub fn names(&self) -> Vec<&str> {
        self.tensors.names()
    }

    /// Reads tensor `name` of `shape` into `out`, converting from `F32` or `F64`.
    pub fn read<T: Float>(
        &self,
        name: &str,
        shape: &[usize],
        out: &mut [T],
    ) -> Result<(), WeightsError> {
        let view = self.tensors.tensor(name).map_err(|_| {
            WeightsError::new(WeightsErrorKind::Missing { tensor: name.to_string() })
        })?;
        if view.shape() != shape {
            return Err(WeightsError::new(WeightsErrorKind::Shape {
                tensor: name.to_string(),
                expected: shape.to_vec(),
                found: view.shape().to_vec(),
            }));
        }
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => {
                for (o, b) in out.iter_mut().zip(data.chunks_exact(4)) {
                    *o = T::of_f64(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
                }
            }
            Dtype::F64 => {
                for (o, b) in out.iter_mut().zip(data.chunks_exact(8)) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    *o = T::of_f64(f64::from_le_bytes(a));
                }
            }
            other => {
                return Err(WeightsError::new(WeightsErrorKind::Dtype {
                    tensor: name.to_string(),
                    found: format!("{other:?}"),
                }));
            }
        }
        Ok(())
    }

    /// Reads every parameter tensor of `N` into a new flat vector, after
    /// checking that the file holds no other tensor outside `extra_prefix`.
    pub fn read_network<N: Network + ?Sized>(
        &self,
        extra_prefixes: &[&str],
    ) -> Result<Vec<N::Scalar>, WeightsError> {
        let mut params = std::vec![nalgebra::zero::<N::Scalar>(); N::PARAMS];
        for t in tensors::<N>() {
            self.read(t.name, t.shape, &mut params[t.offset..t.offset + t.len])?;
        }
        let mut names = self.names();
        names.sort_unstable();
        for name in names {
            let ours = tensors::<N>().any(|t| t.name == name);
            let extra = extra_prefixes.iter().any(|p| name.starts_with(p));
            if !ours && !extra {
                return Err(WeightsError::new(WeightsErrorKind::Unexpected {
                    tensor: name.to_string(),
                }));
            }
        }
        Ok(params)
    }
}

/// The largest file worth reading for a network whose tensors (with any
/// optimizer state) take `payload` bytes.
pub(crate) fn size_limit(payload: u64) -> u64 {
    MAX_HEADER + 8 + payload
}

/// Reads a whole file after checking its size against `limit`.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, WeightsError> {
    let io = |e| WeightsError::new(WeightsErrorKind::Io(e)).at(path);
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > limit {
        return Err(WeightsError::new(WeightsErrorKind::TooLarge { size, limit }).at(path));
    }
    let mut bytes = Vec::new();
    // `take` guards against a file that grows while it is read.
    file.take(limit).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// The bytes of a safetensors file holding `net`'s parameters, named as the
/// equivalent PyTorch `nn.Sequential`'s `state_dict`, in the network's scalar
/// type (`F32` or `F64`).
pub fn to_bytes<N: Network + ?Sized>(net: &N) -> Vec<u8> {
    let mut metadata = HashMap::new();
    metadata.insert("format".to_string(), "pt".to_string());
    metadata.insert(NETWORK_KEY.to_string(), N::NAME.to_string());
    serialize(&network_entries::<N>(net.params()), metadata)
}

/// Loads parameters from safetensors bytes into `net`.
///
/// Every tensor of the network must be present with its exact shape, as
/// `F32` or `F64` (converted to the network's scalar type); any other tensor
/// is an error, except the optimizer's and trainer's state in a checkpoint
/// (`optimizer.*`, `trainer.*`).
/// Nothing changes unless everything checks.
pub fn from_bytes<N: NetworkMut + ?Sized>(net: &mut N, bytes: &[u8]) -> Result<(), WeightsError> {
    let params = Parsed::new(bytes)?
        .read_network::<N>(&[crate::fit::OPTIMIZER_PREFIX, crate::fit::TRAINER_PREFIX])?;
    net.params_mut().copy_from_slice(&params);
    Ok(())
}

/// Saves `net`'s parameters to `path` as safetensors, atomically.
pub fn save<N: Network + ?Sized>(net: &N, path: impl AsRef<Path>) -> Result<(), WeightsError> {
    let path = path.as_ref();
    write_atomic(path, &to_bytes(net))
        .map_err(|e| WeightsError::new(WeightsErrorKind::Io(e)).at(path))
}

/// Loads `net`'s parameters from the safetensors file at `path` (see [`from_bytes`]).
pub fn load<N: NetworkMut + ?Sized>(
    net: &mut N,
    path: impl AsRef<Path>,
) -> Result<(), WeightsError> {
    let path = path.as_ref();
    // A checkpoint holds the weights and up to three optimizer buffers of
    // the same size, in f64 at most.
    let limit = size_limit(4 * 8 * N::PARAMS as u64 + 64 * N::LAYERS.len() as u64);
    let bytes = read_bounded(path, limit)?;
    from_bytes(net, &bytes).map_err(|e| e.at(path))
}

/// Saving and loading weights as methods of every network.
pub trait WeightsExt: NetworkMut {
    /// Saves the parameters as safetensors with PyTorch `state_dict` names, atomically.
    fn save_weights(&self, path: impl AsRef<Path>) -> Result<(), WeightsError> {
        save(self, path)
    }

    /// Loads parameters saved by [`WeightsExt::save_weights`] or by
    /// `safetensors.torch.save_file(model.state_dict(), path)`, checking
    /// every name, dtype and shape first.
    fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<(), WeightsError> {
        load(self, path)
    }
}

impl<N: NetworkMut + ?Sized> WeightsExt for N {}

static TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: to a temporary file beside it, synced
/// to disk, then renamed over `path`. Readers see the old file or the new
/// one, never a part; a crash leaves at most a stray `.tmp` file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] with the contents written by `write`. If `write` fails,
/// the temporary file is removed and `path` is untouched.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("`{}` names no file", path.display()))
    })?;
    let n = TEMPORARY.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);

    let result = (|| {
        let mut file = File::options().write(true).create_new(true).open(&tmp)?;
        write(&mut file)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
