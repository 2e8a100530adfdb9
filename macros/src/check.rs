//! Validation: resolves every width and reports every mistake, each on the
//! tokens that cause it. The result is a model with concrete sizes that the
//! expansion can trust.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Error, Ident};

use crate::ast::{self, Arg, Entry, Shape, Value};
use crate::suggest::closest;

/// A declaration whose shapes are known to fit together.
pub struct Model<'a> {
    pub decl: &'a ast::Network,
    pub scalar: Scalar,
    /// The input width, and the span of the tokens that declare it.
    pub input: usize,
    pub input_span: Span,
    pub layers: Vec<Layer>,
    /// Scalars of parameters.
    pub params: usize,
    /// Scalars per sample of all layers' outputs together.
    pub activations: usize,
    /// The widest layer output.
    pub widest: usize,
}

impl Model<'_> {
    pub fn output(&self) -> usize {
        self.layers.last().map_or(self.input, |l| l.output)
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

/// One checked layer.
pub struct Layer {
    /// Position in the declaration: the `nn.Sequential` index.
    pub index: usize,
    pub kind: Kind,
    /// The layer's name as the user wrote it (for spans).
    pub name: Ident,
    pub input: usize,
    pub output: usize,
    /// Where its parameters start in the flat slice.
    pub offset: usize,
    pub params: usize,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    Dense,
    Relu,
    LeakyRelu { slope: f64 },
    Sigmoid,
    Tanh,
    Softplus,
    Softmax,
    Dropout { p: f64 },
}

/// The layer names `network!` knows, as users write them.
pub const LAYER_NAMES: &[&str] =
    &["Dense", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "Dropout"];

/// Names from other libraries, and what to write instead.
const ALIASES: &[(&str, &str)] =
    &[("Linear", "Dense"), ("Fc", "Dense"), ("FullyConnected", "Dense")];

impl Kind {
    /// The name as written in a declaration.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dense => "Dense",
            Kind::Relu => "ReLU",
            Kind::LeakyRelu { .. } => "LeakyReLU",
            Kind::Sigmoid => "Sigmoid",
            Kind::Tanh => "Tanh",
            Kind::Softplus => "Softplus",
            Kind::Softmax => "Softmax",
            Kind::Dropout { .. } => "Dropout",
        }
    }

    /// The layer with its resolved arguments, as `summary()` shows it.
    pub fn label(self, input: usize, output: usize) -> String {
        match self {
            Kind::Dense => format!("Dense({input} => {output})"),
            Kind::LeakyRelu { slope } => format!("LeakyReLU({slope})"),
            Kind::Dropout { p } => format!("Dropout({p})"),
            other => other.name().to_owned(),
        }
    }

    /// The parameter tensors, PyTorch's names and shapes, in `state_dict` order.
    pub fn tensors(self, input: usize, output: usize) -> Vec<(&'static str, Vec<usize>)> {
        match self {
            Kind::Dense => vec![("weight", vec![output, input]), ("bias", vec![output])],
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

    fn add(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(Error::new(span, msg));
    }

    /// The value, or `None` with its error recorded.
    fn ok<T>(&mut self, r: Result<T, Error>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }
}

/// The span of a token tree, joined from first to last token where possible.
fn span_of(tokens: &impl ToTokens) -> Span {
    tokens.span()
}

/// Checks a declaration: every error at once, or the resolved model.
pub fn check(decl: &ast::Network) -> syn::Result<Model<'_>> {
    let mut errors = Errors::default();
    let scalar = check_scalar(decl, &mut errors);

    // Settings first (`input:`), then layers.
    let mut input: Option<(Option<usize>, Span)> = None;
    let mut layers = Vec::new();
    let mut unknown_setting = false;
    for entry in &decl.entries {
        match entry {
            Entry::Setting(s) if s.key == "input" => {
                let span = s.key.span();
                if input.is_some() {
                    errors.add(span, "`input` is declared twice; keep one");
                } else if !layers.is_empty() {
                    errors.add(span, "`input` must come before the layers");
                    input = Some((None, span));
                } else {
                    input = Some((errors.ok(input_width(&s.value)), span_of(&s.value)));
                }
            }
            Entry::Setting(s) => {
                let key = s.key.to_string();
                let msg = match closest(&key, &["input"]) {
                    Some(k) => format!("unknown setting `{key}`; did you mean `{k}`?"),
                    None => format!(
                        "unknown setting `{key}`; the only setting is `input`, the width of the input"
                    ),
                };
                errors.add(s.key.span(), msg);
                unknown_setting = true;
            }
            Entry::Layer(l) => layers.push(l),
        }
    }
    let Some((input_width, input_span)) = input else {
        if unknown_setting {
            // A misspelt `input`: one message is enough.
            return Err(finish(errors));
        }
        errors.add(
            decl.ident.span(),
            format!("`{}` has no `input`; declare its width first, e.g. `input: 784,`", decl.ident),
        );
        return Err(finish(errors));
    };
    if layers.is_empty() {
        errors.add(
            decl.brace.span.join(),
            format!("`{}` has no layers; add at least one, e.g. `Dense(10)`", decl.ident),
        );
    }

    // Walk the layers, carrying the width that reaches each one. After an
    // error the width may be unknown (`None`): later layers are still
    // checked, but not against it, so one mistake gives one message.
    let mut width = input_width;
    let mut checked = Vec::new();
    let (mut offset, mut activations, mut widest) = (0usize, 0usize, 0usize);
    for (index, l) in layers.iter().enumerate() {
        let Some(spec) = errors.ok(parse_layer(l)) else {
            width = None;
            continue;
        };
        let from = if index == 0 { Source::Input } else { Source::Layer };
        if let (Some((declared, span)), Some(actual)) = (spec.input, width)
            && declared != actual
        {
            errors.add(span, mismatch(l, declared, actual, spec.output, from));
        }
        let Some(input) = spec.input.map(|(w, _)| w).or(width) else {
            width = spec.output;
            continue;
        };
        let output = spec.output.unwrap_or(input);
        let params = match spec.kind {
            Kind::Dense => input.checked_mul(output).and_then(|w| w.checked_add(output)),
            _ => Some(0),
        };
        let sizes = params
            .and_then(|p| Some((offset.checked_add(p)?, activations.checked_add(output)?, p)));
        let Some((end, acts, params)) = sizes else {
            errors.add(
                l.name.span(),
                format!(
                    "`{}` has more parameters than fit in `usize`",
                    spec.kind.label(input, output)
                ),
            );
            width = None;
            continue;
        };
        checked.push(Layer {
            index,
            kind: spec.kind,
            name: l.name.clone(),
            input,
            output,
            offset,
            params,
        });
        offset = end;
        activations = acts;
        widest = widest.max(output);
        width = Some(output);
    }

    // A model must fit in memory as an array of scalars.
    let bytes = offset.checked_mul(scalar.bytes());
    if bytes.is_none_or(|b| b > isize::MAX as usize) {
        errors.add(
            decl.ident.span(),
            format!(
                "`{}` has {offset} parameters, more bytes than a program can address",
                decl.ident
            ),
        );
    }

    match (errors.0, input_width) {
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
        }),
        // An unknown input width always comes with an error.
        (None, None) => Err(Error::new(input_span, "invalid `input`")),
    }
}

fn finish(errors: Errors) -> Error {
    errors.0.unwrap_or_else(|| Error::new(Span::call_site(), "invalid network"))
}

fn check_scalar(decl: &ast::Network, errors: &mut Errors) -> Scalar {
    let Some(ty) = &decl.scalar else {
        return Scalar::F32;
    };
    let name = ty.to_token_stream().to_string();
    match name.as_str() {
        "f32" => Scalar::F32,
        "f64" => Scalar::F64,
        _ => {
            errors.add(
                span_of(ty),
                format!("expected `f32` or `f64` as the scalar type, found `{name}`"),
            );
            Scalar::F32
        }
    }
}

fn input_width(shape: &Shape) -> syn::Result<usize> {
    match shape {
        Shape::Scalar(v) => width(v, "`input`"),
        Shape::List { dims, .. } if dims.len() == 1 => width(&dims[0], "`input`"),
        Shape::List { bracket, dims } => {
            let dims: Vec<String> = dims.iter().map(|d| d.to_token_stream().to_string()).collect();
            Err(Error::new(
                bracket.span.join(),
                format!(
                    "multi-dimensional inputs like `[{}]` are not supported yet; declare the \
                     flattened width instead, e.g. `input: 784` for `[1, 28, 28]`",
                    dims.join(", ")
                ),
            ))
        }
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

/// A width: a positive integer literal.
fn width(v: &Value, what: &str) -> syn::Result<usize> {
    let found = text(v);
    match v {
        Value::Int { neg: None, lit } => match lit.base10_parse::<usize>() {
            Ok(0) => {
                Err(Error::new_spanned(v, format!("{what} must be at least 1 wide, found `0`")))
            }
            Ok(w) => Ok(w),
            Err(_) => Err(Error::new_spanned(v, format!("width `{found}` is too large"))),
        },
        Value::Int { neg: Some(_), .. } => Err(Error::new_spanned(
            v,
            format!("{what} must be a positive integer, found `{found}`"),
        )),
        Value::Float { .. } => {
            Err(Error::new_spanned(v, format!("{what} expects an integer width, found `{found}`")))
        }
        Value::Other(_) => Err(Error::new_spanned(
            v,
            format!(
                "{what} expects an integer width, found `{found}`; `network!` computes every \
                 shape while it expands, so widths are written as numbers"
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

/// What a layer's arguments say.
struct Spec {
    kind: Kind,
    /// An input width stated with `in => out`, and where.
    input: Option<(usize, Span)>,
    /// The output width, if the layer changes it.
    output: Option<usize>,
}

fn parse_layer(l: &ast::LayerAst) -> syn::Result<Spec> {
    let name = l.name.to_string();
    let args: Vec<&Arg> = l.args.iter().flat_map(|a| a.list.iter()).collect();
    let args_span = l.args.as_ref().map_or(l.name.span(), |a| a.paren.span.join());
    let simple = |kind| {
        if l.args.is_some() {
            Err(Error::new(args_span, format!("`{name}` takes no arguments")))
        } else {
            Ok(Spec { kind, input: None, output: None })
        }
    };
    match name.as_str() {
        "Dense" => dense(l, &args, args_span),
        "ReLU" => simple(Kind::Relu),
        "Sigmoid" => simple(Kind::Sigmoid),
        "Tanh" => simple(Kind::Tanh),
        "Softplus" => simple(Kind::Softplus),
        "Softmax" => simple(Kind::Softmax),
        "LeakyReLU" => {
            let slope = match one_number(&name, &args, &["slope", "negative_slope"])? {
                Some(v) => number(v, "`LeakyReLU`", "0.01")?,
                None => 0.01,
            };
            Ok(Spec { kind: Kind::LeakyRelu { slope }, input: None, output: None })
        }
        "Dropout" => {
            let p = match one_number(&name, &args, &["p"])? {
                Some(v) => {
                    let p = number(v, "`Dropout`", "0.5")?;
                    if !(0.0..1.0).contains(&p) {
                        let found = text(v);
                        return Err(Error::new_spanned(
                            v,
                            format!("dropout probability must be in [0, 1), found `{found}`"),
                        ));
                    }
                    p
                }
                None => 0.5,
            };
            Ok(Spec { kind: Kind::Dropout { p }, input: None, output: None })
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

/// `Dense(out)` or `Dense(in => out)`.
fn dense(l: &ast::LayerAst, args: &[&Arg], args_span: Span) -> syn::Result<Spec> {
    const FORMS: &str = "`Dense(out)` or `Dense(in => out)`";
    match args {
        [] => Err(Error::new(
            if l.args.is_some() { args_span } else { l.name.span() },
            format!("`Dense` needs its output width: {FORMS}"),
        )),
        [Arg::Value(out)] => {
            Ok(Spec { kind: Kind::Dense, input: None, output: Some(width(out, "`Dense`")?) })
        }
        [Arg::Arrow { from, to }] => {
            let input = width(from, "`Dense`");
            let output = width(to, "`Dense`");
            match (input, output) {
                (Ok(i), Ok(o)) => {
                    Ok(Spec { kind: Kind::Dense, input: Some((i, from.span())), output: Some(o) })
                }
                (Err(mut a), Err(b)) => {
                    a.combine(b);
                    Err(a)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        [named @ Arg::Named { .. }] => Err(Error::new(
            span_of(named),
            format!("`Dense` takes no named arguments; write {FORMS}"),
        )),
        [_, extra, ..] => {
            Err(Error::new(span_of(extra), format!("`Dense` takes one argument: {FORMS}")))
        }
    }
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
        [arrow @ Arg::Arrow { .. }] => Err(Error::new(
            span_of(arrow),
            format!("`{layer}` keeps the width it is given; `in => out` is for `Dense`"),
        )),
        [_, extra, ..] => Err(Error::new(span_of(extra), format!("`{layer}` takes one argument"))),
    }
}

enum Source {
    Input,
    Layer,
}

fn mismatch(
    l: &ast::LayerAst,
    declared: usize,
    actual: usize,
    out: Option<usize>,
    from: Source,
) -> String {
    let name = &l.name;
    let out = out.map_or_else(String::new, |o| o.to_string());
    let before = match from {
        Source::Input => format!("`input` is {actual} wide"),
        Source::Layer => format!("the layer before it produces {actual}"),
    };
    format!(
        "`{name}({declared} => {out})` expects {declared} inputs, but {before}; write \
         `{name}({actual} => {out})`, or `{name}({out})` to take the width from the layer before"
    )
}
