use alloc::vec::Vec;
use core::fmt;

/// Samples and their targets, of equal number.
///
/// `X` is usually an input vector (`SVector<f32, 784>`) and `Y` a target as
/// the loss takes it (a class index for `CrossEntropy`).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<X, Y> {
    inputs: Vec<X>,
    targets: Vec<Y>,
}

/// Inputs and targets of different numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LengthMismatch {
    /// The number of inputs.
    pub inputs: usize,
    /// The number of targets.
    pub targets: usize,
}

impl fmt::Display for LengthMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} inputs but {} targets; each input needs one target",
            self.inputs, self.targets
        )
    }
}

impl core::error::Error for LengthMismatch {}

impl<X, Y> Dataset<X, Y> {
    /// Pairs `inputs[i]` with `targets[i]`.
    pub fn new(inputs: Vec<X>, targets: Vec<Y>) -> Result<Self, LengthMismatch> {
        if inputs.len() == targets.len() {
            Ok(Dataset { inputs, targets })
        } else {
            Err(LengthMismatch { inputs: inputs.len(), targets: targets.len() })
        }
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The inputs, in order.
    pub fn inputs(&self) -> &[X] {
        &self.inputs
    }

    /// The targets, in the order of the inputs.
    pub fn targets(&self) -> &[Y] {
        &self.targets
    }

    /// Splits off the samples from `at` on (all of them if `at` is 0, none
    /// if `at ≥ len`), keeping the first `at`: `let valid = train.split_off(50_000);`.
    pub fn split_off(&mut self, at: usize) -> Self {
        let at = at.min(self.len());
        Dataset { inputs: self.inputs.split_off(at), targets: self.targets.split_off(at) }
    }

    /// The inputs and targets, taken apart.
    pub fn into_parts(self) -> (Vec<X>, Vec<Y>) {
        (self.inputs, self.targets)
    }
}
