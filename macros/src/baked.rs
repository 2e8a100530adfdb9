//! Weights baked into the program: a safetensors file, read and checked while
//! the macro expands, then included byte for byte with `include_bytes!` and
//! decoded by a `const fn` into a `static` in read-only memory.
//!
//! Reading the file here lets every mismatch be a compile error that names
//! the tensor and both shapes; including it with `include_bytes!` makes the
//! compiler rebuild when the file changes, and keeps the expansion small: the
//! parameters never pass through the token stream.

use std::path::{Path, PathBuf};

use proc_macro2::Span;
use safetensors::{Dtype, SafeTensors};
use syn::{Error, LitStr};

use crate::check::Layer;

/// The largest weights file the macro reads (1 GiB).
const MAX_FILE: u64 = 1 << 30;

/// A weights file that fits the declared layers.
pub struct Baked {
    /// The path as written, for messages and docs.
    pub written: String,
    /// The absolute path, for `include_bytes!`.
    pub path: PathBuf,
    /// Where each tensor's bytes are, in the file and in the flat parameters.
    pub pieces: Vec<Piece>,
}

/// One tensor's bytes: `len` scalars at byte `at` of the file, little-endian,
/// `f64` if `wide`, to go to `to` in the flat parameters.
pub struct Piece {
    pub at: usize,
    pub to: usize,
    pub len: usize,
    pub wide: bool,
}

fn dims(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// The crate's directory: paths in declarations are relative to it.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Reads `lit`'s file and checks it against `layers` of network `name`.
pub fn read(lit: &LitStr, name: &str, layers: &[Layer]) -> syn::Result<Baked> {
    let written = lit.value();
    let path = manifest_dir().join(&written);
    let fail = |msg: String| Error::new(lit.span(), msg);
    let bytes = read_bounded(&path).map_err(|e| {
        fail(format!(
            "cannot read weights file `{written}` at `{}`: {e}; paths are relative to the \
             crate's Cargo.toml",
            path.display()
        ))
    })?;
    if let Some(why) = past_the_end(&bytes) {
        return Err(fail(format!("`{written}` is not a valid safetensors file: {why}")));
    }
    let (header, meta) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| fail(format!("`{written}` is not a valid safetensors file: {e}")))?;
    let data_start = 8 + header;

    let mut pieces = Vec::new();
    let mut expected = Vec::new();
    for layer in layers {
        for t in layer.tensors() {
            let Some(info) = meta.info(&t.name) else {
                return Err(Error::new(
                    layer.name.span(),
                    format!(
                        "`{written}` has no tensor `{}` for this layer, which expects one of shape {}",
                        t.name,
                        dims(&t.shape)
                    ),
                ));
            };
            if info.shape != t.shape {
                return Err(Error::new(
                    layer.name.span(),
                    format!(
                        "tensor `{}` in `{written}` has shape {}, but this layer expects {}",
                        t.name,
                        dims(&info.shape),
                        dims(&t.shape)
                    ),
                ));
            }
            let wide = match info.dtype {
                Dtype::F32 => false,
                Dtype::F64 => true,
                other => {
                    return Err(fail(format!(
                        "tensor `{}` in `{written}` is {other:?}; expected F32 or F64",
                        t.name
                    )));
                }
            };
            pieces.push(Piece {
                at: data_start + info.data_offsets.0,
                to: t.offset,
                len: t.len,
                wide,
            });
            expected.push(t.name);
        }
    }
    let mut names: Vec<String> = meta.tensors().into_keys().collect();
    names.sort();
    if let Some(extra) = names.iter().find(|n| !expected.contains(n)) {
        return Err(fail(format!(
            "`{written}` has tensor `{extra}`, which `{name}` has no parameter for"
        )));
    }
    Ok(Baked { written, path, pieces })
}

/// A tensor whose data would end past the end of the file, checked before
/// `safetensors` adds offsets that a crafted header can make overflow.
fn past_the_end(bytes: &[u8]) -> Option<String> {
    let header = bytes
        .first_chunk::<8>()
        .and_then(|n| usize::try_from(u64::from_le_bytes(*n)).ok())
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?))?;
    let entries: std::collections::HashMap<String, serde_json::Value> =
        serde_json::from_slice(header).ok()?;
    entries.iter().find_map(|(name, info)| {
        let end = info.get("data_offsets")?.get(1)?.as_u64()?;
        (end > bytes.len() as u64).then(|| {
            format!("tensor `{name}` ends at byte {end} of the data, past the end of the file ({} bytes)", bytes.len())
        })
    })
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_FILE {
        return Err(std::io::Error::other(format!(
            "the file is {size} bytes, more than the {MAX_FILE} the macro reads"
        )));
    }
    std::fs::read(path)
}

/// A size in bytes with an optional unit suffix: `8192`, `8KiB`, `64KB`, `1MiB`.
pub fn bytes(lit: &syn::LitInt) -> syn::Result<u64> {
    let unit = match lit.suffix() {
        "" | "B" => 1,
        "KB" => 1_000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        other => {
            return Err(Error::new(
                lit.span(),
                format!(
                    "unknown unit `{other}`; write bytes, or a number with `B`, `KB`, `KiB`, `MB` or `MiB`"
                ),
            ));
        }
    };
    let n: u64 =
        lit.base10_parse().map_err(|_| Error::new(lit.span(), format!("`{lit}` is too large")))?;
    n.checked_mul(unit).ok_or_else(|| Error::new(lit.span(), format!("`{lit}` is too large")))
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The span the budget errors point at.
pub struct Budget {
    pub flash: Option<(u64, Span, String)>,
    pub ram: Option<(u64, Span, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file whose header claims eight contiguous tensors ending 8 bytes
    /// short of `u64::MAX`: an error, not an overflow inside `safetensors`.
    #[test]
    fn offsets_past_the_end_are_an_error() {
        let size = (1u64 << 61) - 1;
        let entries: Vec<String> = (0..8u64)
            .map(|i| {
                let (s, e) = (i * size, (i + 1) * size);
                format!(
                    r#""{i}.weight":{{"dtype":"U8","shape":[{size}],"data_offsets":[{s},{e}]}}"#
                )
            })
            .collect();
        let header = format!("{{{}}}", entries.join(","));
        let header = header.as_bytes();
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header);
        file.extend_from_slice(&[0; 4]);
        let path = std::env::temp_dir()
            .join(format!("perceptra-baked-{}.safetensors", std::process::id()));
        std::fs::write(&path, &file).unwrap();
        let lit = LitStr::new(path.to_str().unwrap(), proc_macro2::Span::call_site());
        let err = read(&lit, "Net", &[]).err().expect("an error");
        std::fs::remove_file(&path).unwrap();
        assert!(err.to_string().contains("past the end of the file"), "{err}");
    }
}
