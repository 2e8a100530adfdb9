//! Validation: resolves every shape and reports every mistake, each on the
//! tokens that cause it. The result is a model with concrete sizes that the
//! expansion can trust.

use std::fmt;

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Error, Ident};

use crate::ast::{self, Arg, Entry, Shape, Value};
use crate::baked::{self, Budget};
use crate::suggest::closest;

/// A declaration whose shapes are known to fit together.
pub struct Model<'a> {
    pub decl: &'a ast::Network,
    pub scalar: Scalar,
    /// The input's shape, and the span of the tokens that declare it.
    pub input: Dims,
    pub input_span: Span,
    pub layers: Vec<Layer>,
    /// Scalars of parameters.
    pub params: usize,
    /// Scalars per sample of all layers' outputs together.
    pub activations: usize,
    /// The widest layer output.
    pub widest: usize,
    /// The most scalars one inference holds at once: a layer's input and
    /// output side by side.
    pub peak_activations: usize,
    /// Weights read from a file, to bake into the program.
    pub baked: Option<crate::baked::Baked>,
}

impl Model<'_> {
    pub fn output(&self) -> usize {
        self.layers.last().map_or(self.input.len(), |l| l.output.len())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scalar {
    F32,
    F64,
}

impl Scalar {
    pub fn name(self) -> &'static str {
        match self {
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
        }
    }

    fn bytes(self) -> usize {
        match self {
            Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }
}

/// The shape of one sample: a flat vector, or an image `[channels, height,
/// width]` stored channel after channel, row after row, as PyTorch does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dims {
    Flat(usize),
    Image { c: usize, h: usize, w: usize },
}

impl Dims {
    /// Scalars in one sample. Checked not to overflow when the shape was made.
    pub fn len(self) -> usize {
        match self {
            Dims::Flat(n) => n,
            Dims::Image { c, h, w } => c * h * w,
        }
    }

    pub fn to_vec(self) -> Vec<usize> {
        match self {
            Dims::Flat(n) => vec![n],
            Dims::Image { c, h, w } => vec![c, h, w],
        }
    }

    /// An image shape, if its size fits in `usize`.
    fn image(c: usize, h: usize, w: usize) -> Option<Self> {
        c.checked_mul(h)?.checked_mul(w)?;
        Some(Dims::Image { c, h, w })
    }
}

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Dims::Flat(n) => write!(f, "[{n}]"),
            Dims::Image { c, h, w } => write!(f, "[{c}, {h}, {w}]"),
        }
    }
}

/// One checked layer.
pub struct Layer {
    /// Position in the declaration: the `nn.Sequential` index.
    pub index: usize,
    pub kind: Kind,
    /// The layer's name as the user wrote it (for spans).
    pub name: Ident,
    pub input: Dims,
    pub output: Dims,
    /// Where its parameters start in the flat slice.
    pub offset: usize,
    pub params: usize,
}

/// One parameter tensor of a layer, as PyTorch's `state_dict` names it.
pub struct Tensor {
    /// `0.weight`
    pub name: String,
    /// `[out, in]`
    pub shape: Vec<usize>,
    /// Where it starts in the flat parameter slice.
    pub offset: usize,
    pub len: usize,
}

impl Layer {
    /// The layer's parameter tensors, in `state_dict` order.
    pub fn tensors(&self) -> Vec<Tensor> {
        let mut offset = self.offset;
        self.kind
            .tensors(self.input, self.output)
            .into_iter()
            .map(|(suffix, shape)| {
                let len = shape.iter().product();
                let t = Tensor { name: format!("{}.{suffix}", self.index), shape, offset, len };
                offset += len;
                t
            })
            .collect()
    }
}

/// A window over an image: kernel size, stride and padding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Window {
    pub k: usize,
    pub s: usize,
    pub p: usize,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    Dense,
    Conv2d { out: usize, window: Window },
    MaxPool2d(Window),
    AvgPool2d(Window),
    Flatten,
    Relu,
    LeakyRelu { slope: f64 },
    Sigmoid,
    Tanh,
    Softplus,
    Softmax,
    Step,
    Elu { alpha: f64 },
    Bru { r: f64 },
    Dropout { p: f64 },
}

/// The layer names `network!` knows, as users write them.
pub const LAYER_NAMES: &[&str] = &[
    "Dense",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "Flatten",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Softmax",
    "Step",
    "Elu",
    "Bru",
    "Dropout",
];

/// Names from other libraries, and what to write instead.
const ALIASES: &[(&str, &str)] = &[
    ("Linear", "Dense"),
    ("Fc", "Dense"),
    ("FullyConnected", "Dense"),
    ("Conv2D", "Conv2d"),
    ("MaxPooling2D", "MaxPool2d"),
    ("AveragePooling2D", "AvgPool2d"),
    ("ELU", "Elu"),
];

impl Kind {
    /// The name as written in a declaration.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dense => "Dense",
            Kind::Conv2d { .. } => "Conv2d",
            Kind::MaxPool2d(_) => "MaxPool2d",
            Kind::AvgPool2d(_) => "AvgPool2d",
            Kind::Flatten => "Flatten",
            Kind::Relu => "ReLU",
            Kind::LeakyRelu { .. } => "LeakyReLU",
            Kind::Sigmoid => "Sigmoid",
            Kind::Tanh => "Tanh",
            Kind::Softplus => "Softplus",
            Kind::Softmax => "Softmax",
            Kind::Step => "Step",
            Kind::Elu { .. } => "Elu",
            Kind::Bru { .. } => "Bru",
            Kind::Dropout { .. } => "Dropout",
        }
    }

    /// The layer with its resolved arguments, as `summary()` shows it.
    pub fn label(self, input: Dims, output: Dims) -> String {
        let window = |w: Window, name: &str| {
            let mut s = format!("{name}({}", w.k);
            if w.s != w.k {
                s += &format!(", stride = {}", w.s);
            }
            s + ")"
        };
        match self {
            Kind::Dense => format!("Dense({} => {})", input.len(), output.len()),
            Kind::Conv2d { out, window: w } => {
                let c = if let Dims::Image { c, .. } = input { c } else { 0 };
                let mut s = format!("Conv2d({c} => {out}, kernel = {}", w.k);
                if w.s != 1 {
                    s += &format!(", stride = {}", w.s);
                }
                if w.p != 0 {
                    s += &format!(", padding = {}", w.p);
                }
                s + ")"
            }
            Kind::MaxPool2d(w) => window(w, "MaxPool2d"),
            Kind::AvgPool2d(w) => window(w, "AvgPool2d"),
            Kind::LeakyRelu { slope } => format!("LeakyReLU({slope})"),
            Kind::Elu { alpha } => format!("Elu({alpha})"),
            Kind::Bru { r } => format!("Bru({r})"),
            Kind::Dropout { p } => format!("Dropout({p})"),
            other => other.name().to_owned(),
        }
    }

    /// The parameter tensors, PyTorch's names and shapes, in `state_dict` order.
    pub fn tensors(self, input: Dims, output: Dims) -> Vec<(&'static str, Vec<usize>)> {
        match (self, input) {
            (Kind::Dense, _) => {
                vec![("weight", vec![output.len(), input.len()]), ("bias", vec![output.len()])]
            }
            (Kind::Conv2d { out, window }, Dims::Image { c, .. }) => {
                vec![("weight", vec![out, c, window.k, window.k]), ("bias", vec![out])]
            }
            _ => Vec::new(),
        }
    }
}

/// Collects errors so that one pass reports them all.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, err: Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    fn add(&mut self, span: Span, msg: impl fmt::Display) {
        self.push(Error::new(span, msg));
    }

    /// The value, or `None` with its error recorded.
    fn ok<T>(&mut self, r: Result<T, Error>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }
}

/// The size from which rustc refuses a type "too big for the target
/// architecture" (its `obj_size_bound`): 2⁶¹ bytes on 64-bit targets, 2³¹ on
/// 32-bit ones. Taken for the host the macro runs on; a smaller target's
/// compiler still reports its own limit, without a span.
const MAX_OBJECT_BYTES: usize = match usize::BITS {
    64 => 1 << 61,
    _ => 1 << (usize::BITS - 1),
};

/// Checks a declaration: every error at once, or the resolved model.
pub fn check(decl: &ast::Network) -> syn::Result<Model<'_>> {
    let mut errors = Errors::default();
    let scalar = check_scalar(decl, &mut errors);

    // Settings first (`input:`), then layers.
    let mut input: Option<(Option<Dims>, Span)> = None;
    let mut layers = Vec::new();
    let mut unknown_setting = false;
    let mut weights: Option<syn::LitStr> = None;
    let mut budget = Budget { flash: None, ram: None };
    for entry in &decl.entries {
        match entry {
            Entry::Setting(s) if s.key == "weights" => {
                if weights.is_some() {
                    errors.add(s.key.span(), "`weights` is declared twice; keep one");
                    continue;
                }
                let lit = match &s.value {
                    Shape::Scalar(Value::Other(tokens)) => {
                        syn::parse2::<syn::LitStr>(tokens.clone()).ok()
                    }
                    _ => None,
                };
                match lit {
                    Some(lit) => weights = Some(lit),
                    None => errors.push(Error::new_spanned(
                        &s.value,
                        "`weights` takes the path of a safetensors file, relative to the crate's \
                         Cargo.toml: `weights: \"mnist.safetensors\"`",
                    )),
                }
            }
            Entry::Setting(s) if s.key == "flash" || s.key == "ram" => {
                let slot = if s.key == "flash" { &mut budget.flash } else { &mut budget.ram };
                if slot.is_some() {
                    errors.add(s.key.span(), format!("`{}` is declared twice; keep one", s.key));
                    continue;
                }
                match &s.value {
                    Shape::Scalar(Value::Int { neg: None, lit }) => {
                        if let Some(n) = errors.ok(baked::bytes(lit)) {
                            *slot = Some((n, lit.span(), lit.to_string()));
                        }
                    }
                    other => errors.push(Error::new_spanned(
                        other,
                        format!("`{}` takes a size in bytes, like `65536` or `64KiB`", s.key),
                    )),
                }
            }
            Entry::Setting(s) if s.key == "input" => {
                let span = s.key.span();
                if input.is_some() {
                    errors.add(span, "`input` is declared twice; keep one");
                } else if !layers.is_empty() {
                    errors.add(span, "`input` must come before the layers");
                    input = Some((None, span));
                } else {
                    input = Some((errors.ok(input_shape(&s.value)), s.value.span()));
                }
            }
            Entry::Setting(s) => {
                let key = s.key.to_string();
                let msg = match closest(&key, &["input", "weights", "flash", "ram"]) {
                    Some(k) => format!("unknown setting `{key}`; did you mean `{k}`?"),
                    None => format!(
                        "unknown setting `{key}`; the settings are `input`, `weights`, `flash` and `ram`"
                    ),
                };
                errors.add(s.key.span(), msg);
                unknown_setting = true;
            }
            Entry::Layer(l) => layers.push(l),
        }
    }
    let Some((input_shape, input_span)) = input else {
        if !unknown_setting {
            errors.add(
                decl.ident.span(),
                format!(
                    "`{}` has no `input`; declare its shape first, e.g. `input: 784,` or \
                     `input: [1, 28, 28],`",
                    decl.ident
                ),
            );
        }
        return Err(finish(errors));
    };
    if layers.is_empty() {
        errors.add(
            decl.brace.span.join(),
            format!("`{}` has no layers; add at least one, e.g. `Dense(10)`", decl.ident),
        );
    }

    // Walk the layers, carrying the shape that reaches each one. After an
    // error the shape may be unknown (`None`): later layers are still parsed
    // and checked on their own, but not against it, so one mistake gives one
    // message.
    let mut shape = input_shape;
    let mut checked = Vec::new();
    let (mut offset, mut activations, mut widest) = (0usize, 0usize, 0usize);
    let mut peak = input_shape.map_or(0, Dims::len);
    for (index, l) in layers.iter().enumerate() {
        let from = if index == 0 { Source::Input } else { Source::Layer };
        let resolved = errors
            .ok(parse_layer(l))
            .and_then(|spec| shape.map(|s| (spec, s)))
            .and_then(|(spec, input)| errors.ok(resolve(l, spec, input, from)));
        let Some((kind, input, output)) = resolved else {
            shape = None;
            continue;
        };
        let params = match (kind, input) {
            (Kind::Dense, _) => {
                input.len().checked_mul(output.len()).and_then(|w| w.checked_add(output.len()))
            }
            (Kind::Conv2d { out, window }, Dims::Image { c, .. }) => out
                .checked_mul(c)
                .and_then(|v| v.checked_mul(window.k))
                .and_then(|v| v.checked_mul(window.k))
                .and_then(|v| v.checked_add(out)),
            _ => Some(0),
        };
        let sizes = params.and_then(|p| {
            Some((offset.checked_add(p)?, activations.checked_add(output.len())?, p))
        });
        let Some((end, acts, params)) = sizes else {
            errors.add(
                l.name.span(),
                format!("`{}` has more parameters than fit in `usize`", kind.label(input, output)),
            );
            shape = None;
            continue;
        };
        checked.push(Layer { index, kind, name: l.name.clone(), input, output, offset, params });
        offset = end;
        activations = acts;
        widest = widest.max(output.len());
        peak = peak.max(input.len().saturating_add(output.len()));
        shape = Some(output);
    }

    // A model must fit in memory as an array of scalars, and so must one
    // sample's input and activations: each is a type rustc must lay out.
    // The input alone is checked only when nothing else is wrong: an error
    // on a layer too large for it says more.
    let inputs = input_shape.map_or(0, Dims::len);
    for (count, what) in [
        (offset, "parameters"),
        (activations, "activation values per sample"),
        (inputs, "input values per sample"),
    ] {
        if what.starts_with("input") && errors.0.is_some() {
            continue;
        }
        if count.checked_mul(scalar.bytes()).is_none_or(|b| b >= MAX_OBJECT_BYTES) {
            errors.add(
                decl.ident.span(),
                format!(
                    "`{}` has {count} {what}, more bytes than a program can address",
                    decl.ident
                ),
            );
        }
    }

    // What the model costs a microcontroller, against its budget.
    let name = &decl.ident;
    let bytes = scalar.bytes() as u64;
    for (budget, need, what) in [
        (&budget.flash, (offset as u64).saturating_mul(bytes), "of flash for its parameters"),
        (
            &budget.ram,
            (peak as u64).saturating_mul(bytes),
            "of RAM for the activations of one inference",
        ),
    ] {
        if let Some((limit, span, written)) = budget
            && need > *limit
        {
            errors.add(
                *span,
                format!(
                    "`{name}` needs {} bytes {what}, more than its budget of {} bytes (`{written}`)",
                    baked::thousands(need),
                    baked::thousands(*limit)
                ),
            );
        }
    }

    // Baked weights are checked last, against the resolved layers.
    let baked = match (&weights, &errors.0) {
        (Some(lit), None) => errors.ok(baked::read(lit, &name.to_string(), &checked)),
        _ => None,
    };

    match (errors.0, input_shape) {
        (Some(err), _) => Err(err),
        (None, Some(input)) => Ok(Model {
            decl,
            scalar,
            input,
            input_span,
            layers: checked,
            params: offset,
            activations,
            widest,
            peak_activations: peak,
            baked,
        }),
        // An unknown input shape always comes with an error.
        (None, None) => Err(Error::new(input_span, "invalid `input`")),
    }
}

fn finish(errors: Errors) -> Error {
    errors.0.unwrap_or_else(|| Error::new(Span::call_site(), "invalid network"))
}

fn check_scalar(decl: &ast::Network, errors: &mut Errors) -> Scalar {
    let Some(ty) = &decl.scalar else { return Scalar::F32 };
    let name = ty.to_token_stream().to_string();
    match name.as_str() {
        "f32" => Scalar::F32,
        "f64" => Scalar::F64,
        _ => {
            errors.push(Error::new_spanned(
                ty,
                format!("expected `f32` or `f64` as the scalar type, found `{name}`"),
            ));
            Scalar::F32
        }
    }
}

/// `784`, `[784]` or `[channels, height, width]`.
fn input_shape(shape: &Shape) -> syn::Result<Dims> {
    match shape {
        Shape::Scalar(v) => Ok(Dims::Flat(size(v, "`input`", "wide")?)),
        Shape::List { dims, .. } if dims.len() == 1 => {
            Ok(Dims::Flat(size(&dims[0], "`input`", "wide")?))
        }
        Shape::List { dims, .. } if dims.len() == 3 => {
            let mut all = Vec::new();
            let mut errors = Errors::default();
            for (d, what) in dims.iter().zip(["channels", "high", "wide"]) {
                all.push(errors.ok(size(d, "the input", what)));
            }
            if let Some(e) = errors.0 {
                return Err(e);
            }
            let [c, h, w] = [all[0].unwrap_or(1), all[1].unwrap_or(1), all[2].unwrap_or(1)];
            Dims::image(c, h, w).ok_or_else(|| {
                Error::new_spanned(
                    shape,
                    format!("an input of [{c}, {h}, {w}] values does not fit in `usize`"),
                )
            })
        }
        Shape::List { dims, .. } => Err(Error::new_spanned(
            shape,
            format!(
                "`input` takes a width like `784` or an image shape `[channels, height, width]`, \
                 found {} dimensions",
                dims.len()
            ),
        )),
    }
}

/// A value as the user wrote it: `-0.2`, not `- 0.2`.
fn text(v: &Value) -> String {
    match v {
        Value::Int { neg, lit } => format!("{}{lit}", if neg.is_some() { "-" } else { "" }),
        Value::Float { neg, lit } => format!("{}{lit}", if neg.is_some() { "-" } else { "" }),
        Value::Other(tokens) => tokens.to_string(),
    }
}

/// A size: a positive integer literal. `what` names it in messages and
/// `unit` completes "must be at least 1 …" (`wide`, `channels`).
fn size(v: &Value, what: &str, unit: &str) -> syn::Result<usize> {
    let found = text(v);
    let noun = match unit {
        "channels" => "channel count",
        "high" => "height",
        "wide" => "width",
        _ => "size",
    };
    match v {
        Value::Int { neg: None, lit } => match lit.base10_parse::<usize>() {
            Ok(0) => {
                let msg = match unit {
                    "channels" => format!("{what} must have at least 1 channel, found `0`"),
                    "" => format!("{what} must be at least 1, found `0`"),
                    _ => format!("{what} must be at least 1 {unit}, found `0`"),
                };
                Err(Error::new_spanned(v, msg))
            }
            Ok(w) => Ok(w),
            Err(_) => Err(Error::new_spanned(v, format!("{noun} `{found}` is too large"))),
        },
        Value::Int { neg: Some(_), .. } => Err(Error::new_spanned(
            v,
            format!("{what} must be a positive integer, found `{found}`"),
        )),
        Value::Float { .. } => {
            Err(Error::new_spanned(v, format!("{what} expects an integer {noun}, found `{found}`")))
        }
        Value::Other(_) => Err(Error::new_spanned(
            v,
            format!(
                "{what} expects an integer {noun}, found `{found}`; `network!` computes every \
                 shape while it expands, so sizes are written as numbers"
            ),
        )),
    }
}

/// A real number: an integer or float literal, finite.
fn number(v: &Value, what: &str, example: &str) -> syn::Result<f64> {
    let found = text(v);
    let (neg, digits) = match v {
        Value::Int { neg, lit } => (neg.is_some(), lit.base10_parse::<f64>()),
        Value::Float { neg, lit } => (neg.is_some(), lit.base10_parse::<f64>()),
        Value::Other(_) => {
            return Err(Error::new_spanned(
                v,
                format!("{what} expects a number like `{example}`, found `{found}`"),
            ));
        }
    };
    match digits {
        Ok(x) if x.is_finite() => Ok(if neg { -x } else { x }),
        _ => Err(Error::new_spanned(v, format!("{what} expects a finite number, found `{found}`"))),
    }
}

/// A stated input size (`in` of `in => out`) and where it is written.
type Stated = Option<(usize, Span)>;

/// What a layer's arguments say, before the shape reaching it is known.
enum Spec {
    Dense {
        input: Stated,
        out: usize,
    },
    Conv2d {
        input: Stated,
        out: usize,
        window: Window,
        kernel_span: Span,
    },
    Pool {
        max: bool,
        window: Window,
        kernel_span: Span,
    },
    Flatten,
    Softmax,
    /// Any shape in, the same shape out.
    Elementwise(Kind),
}

fn parse_layer(l: &ast::LayerAst) -> syn::Result<Spec> {
    let name = l.name.to_string();
    let args: Vec<&Arg> = l.args.iter().flat_map(|a| a.list.iter()).collect();
    let args_span = l.args.as_ref().map_or(l.name.span(), |a| a.paren.span.join());
    let simple = |spec| {
        if l.args.is_some() {
            Err(Error::new(args_span, format!("`{name}` takes no arguments")))
        } else {
            Ok(spec)
        }
    };
    match name.as_str() {
        "Dense" => dense(l, &args, args_span),
        "Conv2d" => conv(l, &args, args_span),
        "MaxPool2d" | "AvgPool2d" => pool(l, &args, args_span),
        "Flatten" => simple(Spec::Flatten),
        "Softmax" => simple(Spec::Softmax),
        "ReLU" => simple(Spec::Elementwise(Kind::Relu)),
        "Sigmoid" => simple(Spec::Elementwise(Kind::Sigmoid)),
        "Tanh" => simple(Spec::Elementwise(Kind::Tanh)),
        "Softplus" => simple(Spec::Elementwise(Kind::Softplus)),
        "Step" => simple(Spec::Elementwise(Kind::Step)),
        "LeakyReLU" => {
            let slope = match one_number(&name, &args, &["slope", "negative_slope"])? {
                Some(v) => number(v, "`LeakyReLU`", "0.01")?,
                None => 0.01,
            };
            Ok(Spec::Elementwise(Kind::LeakyRelu { slope }))
        }
        "Elu" => {
            let alpha = match one_number(&name, &args, &["alpha"])? {
                Some(v) => number(v, "`Elu`", "1.0")?,
                None => 1.0,
            };
            Ok(Spec::Elementwise(Kind::Elu { alpha }))
        }
        "Bru" => {
            let Some(v) = one_number(&name, &args, &["r"])? else {
                return Err(Error::new(
                    l.name.span(),
                    "`Bru` needs its parameter: `Bru(r)` with `r > 0`",
                ));
            };
            let r = number(v, "`Bru`", "2.0")?;
            if r <= 0.0 {
                return Err(Error::new_spanned(
                    v,
                    format!("`Bru(r)` needs `r > 0`, found `{}`", text(v)),
                ));
            }
            Ok(Spec::Elementwise(Kind::Bru { r }))
        }
        "Dropout" => {
            let p = match one_number(&name, &args, &["p"])? {
                Some(v) => {
                    let p = number(v, "`Dropout`", "0.5")?;
                    if !(0.0..1.0).contains(&p) {
                        return Err(Error::new_spanned(
                            v,
                            format!("dropout probability must be in [0, 1), found `{}`", text(v)),
                        ));
                    }
                    p
                }
                None => 0.5,
            };
            Ok(Spec::Elementwise(Kind::Dropout { p }))
        }
        _ => Err(unknown_layer(&l.name)),
    }
}

fn unknown_layer(ident: &Ident) -> Error {
    let name = ident.to_string();
    let msg = if let Some((_, ours)) = ALIASES.iter().find(|(a, _)| *a == name) {
        format!("unknown layer `{name}`; perceptra calls it `{ours}`")
    } else if let Some(close) = closest(&name, LAYER_NAMES) {
        format!("unknown layer `{name}`; did you mean `{close}`?")
    } else {
        let all: Vec<String> = LAYER_NAMES.iter().map(|n| format!("`{n}`")).collect();
        format!("unknown layer `{name}`; expected one of {}", all.join(", "))
    };
    Error::new(ident.span(), msg)
}

/// `out` or `in => out` as a layer's first argument.
fn widths(first: &Arg, layer: &str, unit: &str) -> syn::Result<(Stated, usize)> {
    match first {
        Arg::Value(out) => Ok((None, size(out, &format!("`{layer}`"), unit)?)),
        Arg::Arrow { from, to } => {
            let what = format!("`{layer}`");
            match (size(from, &what, unit), size(to, &what, unit)) {
                (Ok(i), Ok(o)) => Ok((Some((i, from.span())), o)),
                (Err(mut a), Err(b)) => {
                    a.combine(b);
                    Err(a)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        Arg::Named { .. } => unreachable!("callers pass positional arguments"),
    }
}

/// `Dense(out)` or `Dense(in => out)`.
fn dense(l: &ast::LayerAst, args: &[&Arg], args_span: Span) -> syn::Result<Spec> {
    const FORMS: &str = "`Dense(out)` or `Dense(in => out)`";
    match args {
        [] => Err(Error::new(
            if l.args.is_some() { args_span } else { l.name.span() },
            format!("`Dense` needs its output width: {FORMS}"),
        )),
        [first @ (Arg::Value(_) | Arg::Arrow { .. })] => {
            let (input, out) = widths(first, "Dense", "wide")?;
            Ok(Spec::Dense { input, out })
        }
        [named @ Arg::Named { .. }] => Err(Error::new_spanned(
            named,
            format!("`Dense` takes no named arguments; write {FORMS}"),
        )),
        [_, extra, ..] => {
            Err(Error::new_spanned(extra, format!("`Dense` takes one argument: {FORMS}")))
        }
    }
}

/// Named arguments `name = value`, each allowed once.
struct Named<'a> {
    layer: &'static str,
    allowed: &'static [&'static str],
    found: Vec<(String, &'a Value, Span)>,
}

impl<'a> Named<'a> {
    fn collect(
        layer: &'static str,
        allowed: &'static [&'static str],
        args: &[&'a Arg],
    ) -> syn::Result<Self> {
        let mut found: Vec<(String, &'a Value, Span)> = Vec::new();
        for arg in args {
            let Arg::Named { name, value } = arg else {
                return Err(Error::new_spanned(
                    arg,
                    format!(
                        "`{layer}` takes one positional argument; name the others, e.g. `stride = 2`"
                    ),
                ));
            };
            let key = name.to_string();
            // PyTorch's spelling is welcome too.
            let key = if key == "kernel_size" { "kernel".to_owned() } else { key };
            if !allowed.contains(&key.as_str()) {
                let msg = match closest(&key, allowed) {
                    Some(k) => format!("`{layer}` has no argument `{name}`; did you mean `{k}`?"),
                    None => {
                        let all: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                        format!("`{layer}` has no argument `{name}`; expected {}", all.join(", "))
                    }
                };
                return Err(Error::new(name.span(), msg));
            }
            if found.iter().any(|(k, ..)| *k == key) {
                return Err(Error::new(name.span(), format!("`{key}` is given twice")));
            }
            found.push((key, value, name.span()));
        }
        Ok(Named { layer, allowed, found })
    }

    /// The size given as `key`, with the span of its value, if given.
    fn size(&self, key: &str, unit: &str) -> syn::Result<Option<(usize, Span)>> {
        debug_assert!(self.allowed.contains(&key));
        match self.found.iter().find(|(k, ..)| k == key) {
            Some((_, v, _)) => {
                Ok(Some((size(v, &format!("`{}`'s {key}", self.layer), unit)?, v.span())))
            }
            None => Ok(None),
        }
    }
}

/// `Conv2d(out, kernel = k, stride = s, padding = p)`, or with `in => out`.
fn conv(l: &ast::LayerAst, args: &[&Arg], args_span: Span) -> syn::Result<Spec> {
    const FORM: &str =
        "`Conv2d(out_channels, kernel = k)` (optionally `stride = s`, `padding = p`)";
    let Some((first, rest)) = args.split_first() else {
        return Err(Error::new(
            if l.args.is_some() { args_span } else { l.name.span() },
            format!("`Conv2d` needs its output channels and kernel: {FORM}"),
        ));
    };
    if let Arg::Named { .. } = first {
        return Err(Error::new_spanned(
            first,
            format!("`Conv2d` starts with its output channels: {FORM}"),
        ));
    }
    let (input, out) = widths(first, "Conv2d", "channels")?;
    let named = Named::collect("Conv2d", &["kernel", "stride", "padding"], rest)?;
    let (k, kernel_span) = named
        .size("kernel", "wide")?
        .ok_or_else(|| Error::new(args_span, format!("`Conv2d` needs a kernel size: {FORM}")))?;
    let s = named.size("stride", "")?.map_or(1, |(s, _)| s);
    let padding = match named.found.iter().find(|(k, ..)| k == "padding") {
        Some((_, v, _)) => match v {
            // Zero padding is the default and allowed.
            Value::Int { neg: None, lit } if lit.base10_parse::<usize>().ok() == Some(0) => 0,
            _ => size(v, "`Conv2d`'s padding", "wide")?,
        },
        None => 0,
    };
    Ok(Spec::Conv2d { input, out, window: Window { k, s, p: padding }, kernel_span })
}

/// `MaxPool2d(k)`, `MaxPool2d(k, stride = s)` and the same for `AvgPool2d`.
fn pool(l: &ast::LayerAst, args: &[&Arg], args_span: Span) -> syn::Result<Spec> {
    let max = l.name == "MaxPool2d";
    let layer = if max { "MaxPool2d" } else { "AvgPool2d" };
    let form = format!("`{layer}(k)` or `{layer}(k, stride = s)`");
    let Some((first, rest)) = args.split_first() else {
        return Err(Error::new(
            if l.args.is_some() { args_span } else { l.name.span() },
            format!("`{layer}` needs its window size: {form}"),
        ));
    };
    let Arg::Value(k_value) = first else {
        return Err(Error::new_spanned(
            first,
            format!("`{layer}` starts with its window size: {form}"),
        ));
    };
    let k = size(k_value, &format!("`{layer}`'s window"), "wide")?;
    let named = Named::collect(if max { "MaxPool2d" } else { "AvgPool2d" }, &["stride"], rest)?;
    // PyTorch's default stride is the window size.
    let s = named.size("stride", "")?.map_or(k, |(s, _)| s);
    Ok(Spec::Pool { max, window: Window { k, s, p: 0 }, kernel_span: k_value.span() })
}

/// At most one argument, positional or named with one of `names`.
fn one_number<'a>(layer: &str, args: &[&'a Arg], names: &[&str]) -> syn::Result<Option<&'a Value>> {
    match args {
        [] => Ok(None),
        [Arg::Value(v)] => Ok(Some(v)),
        [Arg::Named { name, value }] if names.iter().any(|n| name == n) => Ok(Some(value)),
        [Arg::Named { name, .. }] => {
            let expected: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            Err(Error::new(
                name.span(),
                format!("`{layer}` has no argument `{name}`; expected {}", expected.join(" or ")),
            ))
        }
        [arrow @ Arg::Arrow { .. }] => Err(Error::new_spanned(
            arrow,
            format!(
                "`{layer}` keeps the shape it is given; `in => out` is for `Dense` and `Conv2d`"
            ),
        )),
        [_, extra, ..] => Err(Error::new_spanned(extra, format!("`{layer}` takes one argument"))),
    }
}

#[derive(Clone, Copy)]
enum Source {
    Input,
    Layer,
}

impl Source {
    /// "the layer before it produces [..]" or "`input` is [..]".
    fn produces(self, what: impl fmt::Display) -> String {
        match self {
            Source::Input => format!("`input` is {what}"),
            Source::Layer => format!("the layer before it produces {what}"),
        }
    }

    /// A flat width: "… produces 64" or "`input` is 784 wide".
    fn width(self, n: usize) -> String {
        match self {
            Source::Input => format!("`input` is {n} wide"),
            Source::Layer => format!("the layer before it produces {n}"),
        }
    }

    /// A channel count: "… produces 6 channels" or "`input` has 1 channel".
    fn channels(self, c: usize) -> String {
        let s = if c == 1 { "" } else { "s" };
        match self {
            Source::Input => format!("`input` has {c} channel{s}"),
            Source::Layer => format!("the layer before it produces {c} channel{s}"),
        }
    }
}

/// The output size of a window sliding over `len` values: PyTorch's
/// `⌊(len + 2p − k) / s⌋ + 1`, or `None` if the window does not fit.
fn slide(len: usize, w: Window) -> Option<usize> {
    let padded = len.checked_add(w.p.checked_mul(2)?)?;
    padded.checked_sub(w.k).map(|room| room / w.s + 1)
}

/// Applies a parsed layer to the shape that reaches it.
fn resolve(
    l: &ast::LayerAst,
    spec: Spec,
    input: Dims,
    from: Source,
) -> syn::Result<(Kind, Dims, Dims)> {
    let name = &l.name;
    let flat_only = |what: &str| {
        Error::new(
            name.span(),
            format!(
                "`{what}` needs a flat input, but {}; add `Flatten` before it (it gives {} values)",
                from.produces(input),
                input.len()
            ),
        )
    };
    let image_only = |what: &str| {
        Error::new(
            name.span(),
            format!(
                "`{what}` needs an image input `[channels, height, width]`, but {}; declare \
                 the input as an image, e.g. `input: [1, 28, 28]`",
                from.produces(format!("a flat vector of {}", input.len()))
            ),
        )
    };
    match spec {
        Spec::Dense { input: stated, out } => {
            let Dims::Flat(width) = input else { return Err(flat_only("Dense")) };
            if let Some((declared, span)) = stated
                && declared != width
            {
                let before = from.width(width);
                return Err(Error::new(
                    span,
                    format!(
                        "`Dense({declared} => {out})` expects {declared} inputs, but {before}; write \
                         `Dense({width} => {out})`, or `Dense({out})` to take the width from the layer before"
                    ),
                ));
            }
            Ok((Kind::Dense, input, Dims::Flat(out)))
        }
        Spec::Conv2d { input: stated, out, window, kernel_span } => {
            let Dims::Image { c, h, w } = input else { return Err(image_only("Conv2d")) };
            if let Some((declared, span)) = stated
                && declared != c
            {
                let before = from.channels(c);
                return Err(Error::new(
                    span,
                    format!(
                        "`Conv2d({declared} => {out}, ..)` expects {declared} input channels, but {before}; \
                         write `Conv2d({c} => {out}, ..)`, or `Conv2d({out}, ..)` to take the channels \
                         from the layer before"
                    ),
                ));
            }
            let (Some(ho), Some(wo)) = (slide(h, window), slide(w, window)) else {
                let k = window.k;
                let padded = if window.p > 0 {
                    let p = window.p;
                    format!(
                        ", {}×{} with padding {p}",
                        h.saturating_add(p.saturating_mul(2)),
                        w.saturating_add(p.saturating_mul(2))
                    )
                } else {
                    String::new()
                };
                return Err(Error::new(
                    kernel_span,
                    format!(
                        "`Conv2d`'s {k}×{k} kernel does not fit its input: {}{padded}; use a \
                         smaller kernel, or more padding",
                        from.produces(input),
                    ),
                ));
            };
            let output = Dims::image(out, ho, wo).ok_or_else(|| {
                Error::new(name.span(), "`Conv2d`'s output does not fit in `usize`")
            })?;
            Ok((Kind::Conv2d { out, window }, input, output))
        }
        Spec::Pool { max, window, kernel_span } => {
            let what = if max { "MaxPool2d" } else { "AvgPool2d" };
            let Dims::Image { c, h, w } = input else { return Err(image_only(what)) };
            let (Some(ho), Some(wo)) = (slide(h, window), slide(w, window)) else {
                let k = window.k;
                return Err(Error::new(
                    kernel_span,
                    format!(
                        "`{what}`'s {k}×{k} window does not fit its input: {}, {h}×{w} per channel",
                        from.produces(input)
                    ),
                ));
            };
            let kind = if max { Kind::MaxPool2d(window) } else { Kind::AvgPool2d(window) };
            Ok((kind, input, Dims::Image { c, h: ho, w: wo }))
        }
        Spec::Flatten => Ok((Kind::Flatten, input, Dims::Flat(input.len()))),
        Spec::Softmax => match input {
            Dims::Flat(_) => Ok((Kind::Softmax, input, input)),
            Dims::Image { .. } => Err(flat_only("Softmax")),
        },
        Spec::Elementwise(kind) => Ok((kind, input, input)),
    }
}
