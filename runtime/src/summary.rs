//! `summary()`: a Keras-like table of a network's layers.

use core::fmt;

use crate::{LayerInfo, Network};

/// A table of a network's layers, output shapes and parameter counts; print it
/// with `{}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The network's declared name.
    pub name: &'static str,
    /// `"f32"` or `"f64"`.
    pub scalar: &'static str,
    /// Bytes per scalar.
    pub scalar_bytes: usize,
    /// The shape of one input sample.
    pub input: &'static [usize],
    /// The layers, in order.
    pub layers: &'static [LayerInfo],
    /// Total number of parameters.
    pub params: usize,
    /// The most scalars one inference holds at once.
    pub peak_activations: usize,
}

impl Summary {
    /// The summary of network type `N`.
    pub fn of<N: Network + ?Sized>() -> Self {
        Summary {
            name: N::NAME,
            scalar: <N::Scalar as crate::Float>::NAME,
            scalar_bytes: core::mem::size_of::<N::Scalar>(),
            input: N::INPUT_SHAPE,
            layers: N::LAYERS,
            params: N::PARAMS,
            peak_activations: N::PEAK_ACTIVATIONS,
        }
    }

    /// Bytes of parameters: the flash a model with baked weights occupies.
    pub fn param_bytes(&self) -> usize {
        self.params * self.scalar_bytes
    }

    /// Bytes of activations one inference holds at once, at most.
    pub fn peak_activation_bytes(&self) -> usize {
        self.peak_activations * self.scalar_bytes
    }
}

/// Writes `n` with thousands separators: `101,770`.
struct Thousands(usize);

impl Thousands {
    fn width(&self) -> usize {
        let d = digits(self.0);
        d + (d - 1) / 3
    }
}

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut groups = [0u16; 8];
        let (mut n, mut len) = (self.0, 0);
        loop {
            groups[len] = (n % 1000) as u16;
            len += 1;
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let pad = f.width().unwrap_or(0).saturating_sub(self.width());
        for _ in 0..pad {
            f.write_str(" ")?;
        }
        write!(f, "{}", groups[len - 1])?;
        for g in groups[..len - 1].iter().rev() {
            write!(f, ",{g:03}")?;
        }
        Ok(())
    }
}

/// Writes a shape as `[1, 28, 28]`.
struct Shape<'a>(&'a [usize]);

impl Shape<'_> {
    fn width(&self) -> usize {
        let digits: usize = self.0.iter().map(|&d| digits(d)).sum();
        2 + digits + 2 * self.0.len().saturating_sub(1)
    }
}

impl fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")?;
        let pad = f.width().unwrap_or(0).saturating_sub(self.width());
        for _ in 0..pad {
            f.write_str(" ")?;
        }
        Ok(())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.input;
        let label_w = self.layers.iter().map(|l| l.label.len()).max().unwrap_or(0).max(5);
        let shape_w = self
            .layers
            .iter()
            .map(|l| Shape(l.output).width())
            .chain([Shape(input).width(), "Output shape".len()])
            .max()
            .unwrap_or(0);
        let param_w = Thousands(self.params).width().max("Params".len());
        let index_w = digits(self.layers.len().saturating_sub(1));
        let total = index_w + 2 + label_w + 2 + shape_w + 2 + param_w;

        writeln!(f, "Model: {} ({})", self.name, self.scalar)?;
        rule(f, '=', total)?;
        writeln!(
            f,
            "{:>index_w$}  {:<label_w$}  {:<shape_w$}  {:>param_w$}",
            "#", "Layer", "Output shape", "Params"
        )?;
        rule(f, '-', total)?;
        writeln!(
            f,
            "{:>index_w$}  {:<label_w$}  {:<shape_w$}  {:>param_w$}",
            "",
            "Input",
            Shape(input),
            0
        )?;
        for l in self.layers {
            writeln!(
                f,
                "{:>index_w$}  {:<label_w$}  {:<shape_w$}  {:>param_w$}",
                l.index,
                l.label,
                Shape(l.output),
                Thousands(l.params)
            )?;
        }
        rule(f, '=', total)?;
        let bytes = self.param_bytes();
        write!(f, "Total params: {} ({} bytes", Thousands(self.params), Thousands(bytes))?;
        if bytes >= 1024 {
            write!(f, ", {:.1} KiB", bytes as f64 / 1024.0)?;
        }
        writeln!(f, ")")?;
        write!(
            f,
            "Peak activations per inference: {} values ({} bytes)",
            Thousands(self.peak_activations),
            Thousands(self.peak_activation_bytes())
        )
    }
}

/// Decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

fn rule(f: &mut fmt::Formatter<'_>, c: char, width: usize) -> fmt::Result {
    for _ in 0..width {
        write!(f, "{c}")?;
    }
    writeln!(f)
}
