//! Decoding weights baked in by `network!` (`weights: "file.safetensors"`).
//!
//! The macro checks the file while it expands and hands the program the
//! file's bytes (`include_bytes!`) with the place of each tensor; these
//! `const fn`s turn them into the parameter array of a `static`, at compile
//! time, so the weights sit in read-only memory (flash) and nothing is parsed
//! or copied when the program runs.

/// One tensor in a safetensors file: `len` little-endian scalars at byte
/// `at` (`f64` if `wide`, `f32` otherwise), for the flat parameters from
/// index `to` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Byte offset of the tensor's data in the file.
    pub at: usize,
    /// Index of its first scalar in the flat parameters.
    pub to: usize,
    /// Number of scalars.
    pub len: usize,
    /// `F64` data (else `F32`).
    pub wide: bool,
}

/// Reads scalar `i` of `piece` as an `f64`.
const fn scalar(bytes: &[u8], piece: &Piece, i: usize) -> f64 {
    if piece.wide {
        let a = piece.at + 8 * i;
        let b = [
            bytes[a],
            bytes[a + 1],
            bytes[a + 2],
            bytes[a + 3],
            bytes[a + 4],
            bytes[a + 5],
            bytes[a + 6],
            bytes[a + 7],
        ];
        f64::from_le_bytes(b)
    } else {
        let a = piece.at + 4 * i;
        f32::from_le_bytes([bytes[a], bytes[a + 1], bytes[a + 2], bytes[a + 3]]) as f64
    }
}

/// The `f32` parameters of `pieces` in `bytes`. Evaluated at compile time; a
/// piece outside `bytes` fails the build (the macro checked it cannot).
pub const fn decode_f32<const N: usize>(bytes: &[u8], pieces: &[Piece]) -> [f32; N] {
    let mut out = [0.0f32; N];
    let mut p = 0;
    while p < pieces.len() {
        let piece = &pieces[p];
        let mut i = 0;
        while i < piece.len {
            // `f32` data converts exactly; `f64` data rounds to nearest.
            out[piece.to + i] = if piece.wide {
                scalar(bytes, piece, i) as f32
            } else {
                let a = piece.at + 4 * i;
                f32::from_le_bytes([bytes[a], bytes[a + 1], bytes[a + 2], bytes[a + 3]])
            };
            i += 1;
        }
        p += 1;
    }
    out
}

/// The `f64` parameters of `pieces` in `bytes` (see [`decode_f32`]).
pub const fn decode_f64<const N: usize>(bytes: &[u8], pieces: &[Piece]) -> [f64; N] {
    let mut out = [0.0f64; N];
    let mut p = 0;
    while p < pieces.len() {
        let piece = &pieces[p];
        let mut i = 0;
        while i < piece.len {
            out[piece.to + i] = scalar(bytes, piece, i);
            i += 1;
        }
        p += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_land_in_place_and_convert() {
        let mut bytes = [0u8; 24];
        bytes[..4].copy_from_slice(&1.5f32.to_le_bytes());
        bytes[4..8].copy_from_slice(&(-2.0f32).to_le_bytes());
        bytes[8..16].copy_from_slice(&0.25f64.to_le_bytes());
        bytes[16..24].copy_from_slice(&1e300f64.to_le_bytes());
        let pieces = [
            Piece { at: 8, to: 0, len: 2, wide: true },
            Piece { at: 0, to: 2, len: 2, wide: false },
        ];
        const fn check() -> [f64; 4] {
            let mut bytes = [0u8; 24];
            let one = 0.75f64.to_le_bytes();
            let mut i = 0;
            while i < 8 {
                bytes[8 + i] = one[i];
                i += 1;
            }
            decode_f64::<4>(&bytes, &[Piece { at: 8, to: 1, len: 1, wide: true }])
        }
        assert_eq!(decode_f64::<4>(&bytes, &pieces), [0.25, 1e300, 1.5, -2.0]);
        assert_eq!(decode_f32::<4>(&bytes, &pieces), [0.25, f32::INFINITY, 1.5, -2.0]);
        const AT_COMPILE_TIME: [f64; 4] = check();
        assert_eq!(AT_COMPILE_TIME, [0.0, 0.75, 0.0, 0.0]);
    }
}
