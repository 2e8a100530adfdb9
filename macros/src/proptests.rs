//! Property tests of the whole pipeline (parse → check → expand) on hostile
//! input: random declarations built from the known layer names with random
//! arguments, the same declarations mutated token by token, and literals of
//! every kind in every place.
//!
//! For every input, `expand` returns (no panic) within a time bound, and what
//! it returns is valid Rust: the generated code, or `compile_error!`s followed
//! by a stub of every type the input declares, so that only the errors show.
//! Every error message is non-empty and starts in lowercase, as rustc's do.
//! (Spans carry no positions in `proc_macro2`'s fallback mode, so where the
//! errors point is tested by the UI tests instead.)

use std::str::FromStr;
use std::time::{Duration, Instant};

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::sample::select;
use quote::{ToTokens, quote};

use crate::{ast, check};

/// A bound no input should come near: the slowest cases here take
/// milliseconds.
const SLOW: Duration = Duration::from_secs(2);

/// Literals and other values, in every form a user (or a fuzzer) might write
/// where a number belongs.
const VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "28",
    "784",
    "-1",
    "-3",
    "0.5",
    "-0.2",
    "1.0",
    "1.5",
    "2.",
    "1e3",
    "1e999",
    "-1e999",
    "1e-400",
    "0.99999999999999999",
    "4294967296",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "340282366920938463463374607431768211456",
    "3u8",
    "1usize",
    "1i128",
    "2.0f32",
    "1f64",
    "0x10",
    "0b11",
    "0o7",
    "1_000",
    "\"x\"",
    "\"\"",
    "'c'",
    "b'c'",
    "b\"x\"",
    "r\"raw\"",
    "c\"c\"",
    "N",
    "true",
    "_",
    "self",
    "r#Dense",
    "f64::NAN",
    "- 3",
    "-",
    "(3)",
    "((((((((1))))))))",
    "[2, 3]",
    "{}",
    "3 + 4",
    "=>",
];

/// Names of the keyword arguments of all layers, and some that are not.
const ARG_NAMES: &[&str] = &[
    "kernel",
    "kernel_size",
    "stride",
    "padding",
    "p",
    "slope",
    "negative_slope",
    "alpha",
    "r",
    "kernal",
    "_",
    "in",
];

/// The settings `network!` knows, and some it does not.
const SETTINGS: &[&str] = &["input", "inputs", "weights", "flash", "ram", "output"];

/// Layer names: mostly the known ones, some misspelt or from other libraries.
fn layer_name() -> impl Strategy<Value = String> {
    let unknown = select(&["Relu", "Linear", "Conv2D", "ELU", "Attention", "dense", "X", "r#ReLU"]);
    prop_oneof![
        9 => select(check::LAYER_NAMES).prop_map(str::to_owned),
        1 => unknown.prop_map(str::to_owned),
    ]
}

/// A value: one from [`VALUES`], or a random integer or float.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(VALUES).prop_map(str::to_owned),
        2 => (1usize..5000).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| format!("{x:?}")),
    ]
}

/// One argument: `v`, `a => b` or `name = v`.
fn argument() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => value(),
        2 => (value(), value()).prop_map(|(a, b)| format!("{a} => {b}")),
        3 => (select(ARG_NAMES), value()).prop_map(|(n, v)| format!("{n} = {v}")),
    ]
}

/// A layer, with or without an argument list.
fn layer() -> impl Strategy<Value = String> {
    let args =
        prop::option::weighted(0.6, (prop::collection::vec(argument(), 0..4), any::<bool>()));
    (layer_name(), args).prop_map(|(name, args)| match args {
        None => name,
        Some((args, trailing)) => {
            let comma = if trailing && !args.is_empty() { "," } else { "" };
            format!("{name}({}{comma})", args.join(", "))
        }
    })
}

/// A setting: `input: 784`, `input: [1, 28, 28]`, `ram: "x"`, ….
fn setting() -> impl Strategy<Value = String> {
    let shape = prop_oneof![
        3 => value(),
        2 => prop::collection::vec(value(), 0..5).prop_map(|d| format!("[{}]", d.join(", "))),
        1 => select(&["[1, 28, 28]", "[3, 8, 8]", "[1, 5, 5]", "\"weights.safetensors\""])
            .prop_map(str::to_owned),
    ];
    let key = prop_oneof![4 => Just("input"), 1 => select(SETTINGS)];
    (key, shape).prop_map(|(k, v)| format!("{k}: {v}"))
}

/// A whole declaration, the struct's name returned beside it.
fn network() -> impl Strategy<Value = (String, String)> {
    let attrs = prop::collection::vec(
        select(&["/// Docs.", "#[derive(Debug)]", "#[allow(dead_code)]", "#[doc = \"x\"]"]),
        0..3,
    );
    let vis = select(&["", "pub", "pub(crate)"]);
    let name = select(&["M", "Net", "Mnist", "r#Foo"]);
    let scalar =
        select(&["", "<f32>", "<f64>", "<i32>", "<f16>", "<Vec<f32>>", "<>", "<f32, f64>"]);
    let body = (
        prop::collection::vec(setting(), 0..3),
        prop::collection::vec(layer(), 0..10),
        0usize..10,
        any::<bool>(),
    )
        .prop_map(|(settings, mut layers, at, trailing)| {
            // Settings first, as they belong, or (sometimes) among the layers.
            let at = if at < 7 { 0 } else { at.min(layers.len()) };
            for (i, s) in settings.into_iter().enumerate() {
                layers.insert((at + i).min(layers.len()), s);
            }
            let comma = if trailing && !layers.is_empty() { "," } else { "" };
            format!("{}{comma}", layers.join(", "))
        });
    (attrs, vis, name, scalar, body).prop_map(|(attrs, vis, name, scalar, body)| {
        let ident = name.trim_start_matches("r#").to_owned();
        (format!("{} {vis} struct {name}{scalar} {{ {body} }}", attrs.join(" ")), ident)
    })
}

/// One to three declarations in one invocation.
fn invocation() -> impl Strategy<Value = String> {
    prop::collection::vec(network(), 1..4)
        .prop_map(|nets| nets.into_iter().map(|(text, _)| text).collect::<Vec<_>>().join("\n"))
}

/// Lexes generated text; every strategy here produces text that lexes.
fn tokens(text: &str) -> TokenStream {
    TokenStream::from_str(text).unwrap_or_else(|e| panic!("test bug: {text:?} does not lex: {e}"))
}

/// One edit of a token stream, applied in one of its groups (the top level
/// counting as group 0, the others in pre-order).
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    /// Replace a token by the tokens of a fragment.
    Replace(usize, String),
    Insert(usize, String),
    /// Put a range of tokens in a new group.
    Wrap(usize, usize, u8),
    /// Splice a group's tokens in its place.
    Unwrap(usize),
    /// Cut the stream short.
    Truncate(usize),
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => value(),
        1 => layer_name(),
        2 => select(&[",", ":", "=>", "=", "-", "struct", "input", "<", ">", "#", "pub", ";"])
            .prop_map(str::to_owned),
        1 => layer(),
    ]
}

fn edit() -> impl Strategy<Value = (usize, Edit)> {
    let i = any::<usize>();
    let op = prop_oneof![
        3 => i.prop_map(Edit::Delete),
        2 => i.prop_map(Edit::Duplicate),
        2 => (i, i).prop_map(|(a, b)| Edit::Swap(a, b)),
        4 => (i, fragment()).prop_map(|(a, f)| Edit::Replace(a, f)),
        3 => (i, fragment()).prop_map(|(a, f)| Edit::Insert(a, f)),
        1 => (i, i, 0u8..4).prop_map(|(a, b, d)| Edit::Wrap(a, b, d)),
        1 => i.prop_map(Edit::Unwrap),
        1 => i.prop_map(Edit::Truncate),
    ];
    (any::<usize>(), op)
}

/// The number of token streams in `ts`: itself and every group's, nested.
fn streams(ts: &TokenStream) -> usize {
    1 + ts
        .clone()
        .into_iter()
        .map(|t| if let TokenTree::Group(g) = t { streams(&g.stream()) } else { 0 })
        .sum::<usize>()
}

/// Applies `edit` to stream number `target` of `ts` (see [`Edit`]).
fn apply(ts: TokenStream, target: usize, edit: &Edit) -> TokenStream {
    fn walk(ts: TokenStream, target: usize, edit: &Edit, seen: &mut usize) -> TokenStream {
        let here = *seen;
        *seen += 1;
        let mut v: Vec<TokenTree> = ts
            .into_iter()
            .map(|t| match t {
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), walk(g.stream(), target, edit, seen));
                    inner.set_span(g.span());
                    TokenTree::Group(inner)
                }
                other => other,
            })
            .collect();
        if here == target {
            edit_level(&mut v, edit);
        }
        v.into_iter().collect()
    }
    walk(ts, target, edit, &mut 0)
}

fn edit_level(v: &mut Vec<TokenTree>, edit: &Edit) {
    let n = v.len();
    let frag = |f: &str| tokens(f).into_iter().collect::<Vec<_>>();
    match *edit {
        Edit::Insert(i, ref f) => {
            let at = i % (n + 1);
            v.splice(at..at, frag(f));
        }
        _ if n == 0 => {}
        Edit::Delete(i) => {
            v.remove(i % n);
        }
        Edit::Duplicate(i) => {
            let t = v[i % n].clone();
            v.insert(i % n, t);
        }
        Edit::Swap(a, b) => v.swap(a % n, b % n),
        Edit::Replace(i, ref f) => {
            let at = i % n;
            v.splice(at..=at, frag(f));
        }
        Edit::Wrap(a, b, d) => {
            let (a, b) = (a % n, b % n);
            let (lo, hi) = (a.min(b), a.max(b));
            let delimiter =
                [Delimiter::Parenthesis, Delimiter::Bracket, Delimiter::Brace][d as usize % 3];
            let inner: TokenStream = v.drain(lo..=hi).collect();
            v.insert(lo, TokenTree::Group(Group::new(delimiter, inner)));
        }
        Edit::Unwrap(i) => {
            let at = i % n;
            if let TokenTree::Group(g) = &v[at] {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                v.splice(at..=at, inner);
            }
        }
        Edit::Truncate(i) => v.truncate(i % n),
    }
}

/// The names of the types an input declares: those of the declarations if
/// it parses, otherwise every `struct Name` at its top level.
fn declared(input: &TokenStream) -> Vec<String> {
    if let Ok(parsed) = syn::parse2::<ast::Input>(input.clone()) {
        return parsed.networks.iter().map(|n| n.ident.to_string()).collect();
    }
    let top: Vec<TokenTree> = input.clone().into_iter().collect();
    top.windows(2)
        .filter_map(|w| match w {
            [TokenTree::Ident(kw), name] if kw == "struct" => {
                syn::parse2::<syn::Ident>(name.to_token_stream()).ok().map(|i| i.to_string())
            }
            _ => None,
        })
        .collect()
}

/// The messages of the `compile_error!`s among `items`.
fn compile_errors(items: &[syn::Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last()?.ident == "compile_error" => {
                Some(m.mac.parse_body::<syn::LitStr>().map(|s| s.value()).unwrap_or_default())
            }
            _ => None,
        })
        .collect()
}

/// Runs the whole pipeline on `input` and checks what holds for any input.
fn check_expansion(input: TokenStream) -> Result<(), TestCaseError> {
    let names = declared(&input);
    let shown = input.to_string();
    let start = Instant::now();
    let out = crate::expand(input);
    let took = start.elapsed();
    prop_assert!(took < SLOW, "took {took:?} on {shown}");

    let file = syn::parse2::<syn::File>(out.clone());
    prop_assert!(file.is_ok(), "invalid Rust for {shown}:\n{out}");
    let file = file.map_err(|e| TestCaseError::fail(e.to_string()))?;
    for msg in compile_errors(&file.items) {
        let first = msg.chars().next();
        prop_assert!(first.is_some(), "empty error for {shown}");
        prop_assert!(
            !first.is_some_and(char::is_uppercase),
            "error starts in uppercase: {msg:?}, for {shown}"
        );
    }
    let structs: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) => Some(s.ident.to_string().trim_start_matches("r#").to_owned()),
            _ => None,
        })
        .collect();
    for name in &names {
        prop_assert!(
            structs.iter().any(|s| s == name.trim_start_matches("r#")),
            "`{name}` is not declared by the expansion of {shown}:\n{out}"
        );
    }
    Ok(())
}

/// `cases` per property, or `PROPTEST_CASES` of them for a longer search.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(600))]

    #[test]
    fn random_declarations_expand_or_report(text in invocation()) {
        check_expansion(tokens(&text))?;
    }

    #[test]
    fn mutated_declarations_expand_or_report(
        text in invocation(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let mut ts = tokens(&text);
        for (target, edit) in &edits {
            let n = streams(&ts);
            ts = apply(ts, target % n, edit);
        }
        check_expansion(ts)?;
    }

    #[test]
    fn any_literal_anywhere(value in value(), slot in 0usize..12) {
        let templates = [
            "struct M { input: V, Dense(2) }",
            "struct M { input: 4, Dense(V) }",
            "struct M { input: 4, Dense(V => 2) }",
            "struct M { input: 4, Dense(4 => V) }",
            "struct M { input: [V, 8, 8], Flatten }",
            "struct M { input: [1, 8, 8], Conv2d(V, kernel = 3) }",
            "struct M { input: [1, 8, 8], Conv2d(2, kernel = V, stride = 1) }",
            "struct M { input: [1, 8, 8], Conv2d(2, kernel = 3, stride = V) }",
            "struct M { input: [1, 8, 8], Conv2d(2, kernel = 3, padding = V) }",
            "struct M { input: [1, 8, 8], MaxPool2d(V, stride = 2) }",
            "struct M { input: 4, LeakyReLU(V), Elu(alpha = V), Dropout(V) }",
            "struct M { input: 4, Bru(V) }",
        ];
        check_expansion(tokens(&templates[slot].replace('V', &value)))?;
    }
}

/// The messages of every error `expand` reports for `input`.
fn errors(input: TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(crate::expand(input)).expect("valid Rust");
    compile_errors(&file.items)
}

#[test]
fn padding_too_large_to_double_is_an_error() {
    // `2 * padding` overflowed while the message was written (a panic in the
    // macro, which rustc reports as "proc macro panicked").
    for p in ["9223372036854775808", "18446744073709551615"] {
        let input = tokens(&format!(
            "struct M {{ input: [1, 8, 8], Conv2d(1, kernel = 3, padding = {p}) }}"
        ));
        let all = errors(input);
        assert_eq!(all.len(), 1, "{all:#?}");
        assert!(all[0].starts_with("`Conv2d`'s 3×3 kernel does not fit its input"), "{all:#?}");
    }
    // A padding that can be doubled but not added to the height.
    let all = errors(quote! {
        struct M { input: [1, 8, 8], Conv2d(1, kernel = 3, padding = 9223372036854775807) }
    });
    assert_eq!(all.len(), 1, "{all:#?}");
}

#[test]
fn budgets_of_sizes_near_usize_max_do_not_overflow() {
    // The bytes of flash and RAM were computed as `count as u64 * bytes`,
    // which overflowed for a wide input (found by `any_literal_anywhere`
    // with `input: 9223372036854775807`), with or without a budget.
    for input in [
        "struct M { input: 9223372036854775807, Dense(2) }",
        "struct M { input: 9223372036854775807, ReLU }",
        "struct M<f64> { input: 4611686018427387904, ReLU, ram: 1024 }",
        "struct M { flash: 1024, ram: 1024, input: 18446744073709551615, ReLU }",
    ] {
        assert!(!errors(tokens(input)).is_empty(), "{input}");
    }
}

#[test]
fn sizes_that_overflow_usize_are_errors() {
    let cases = [
        // Widths.
        (
            "struct M { input: 18446744073709551616, Dense(1) }",
            "width `18446744073709551616` is too large",
        ),
        (
            "struct M { input: 4, Dense(18446744073709551616) }",
            "width `18446744073709551616` is too large",
        ),
        // The product of the dimensions of an image.
        ("struct M { input: [4294967296, 4294967296, 2], Flatten }", "does not fit in `usize`"),
        // Parameters: in × out + out, and out × in × k × k + out.
        (
            "struct M { input: 4294967296, Dense(4294967296) }",
            "more parameters than fit in `usize`",
        ),
        (
            "struct M { input: [1, 1, 1], Conv2d(18446744073709551615, kernel = 1) }",
            "more parameters than fit in `usize`",
        ),
        (
            "struct M { input: [1, 1, 1], Conv2d(65536, kernel = 4294967296, padding = 2147483648) }",
            "more parameters than fit in `usize`",
        ),
        // The output of a convolution.
        (
            "struct M { input: [1, 2147483648, 4294967296], Conv2d(2, kernel = 1) }",
            "`Conv2d`'s output does not fit in `usize`",
        ),
        // Offsets: each layer fits, all together do not.
        (
            "struct M { input: 3037000500, Dense(3037000500), Dense(3037000500) }",
            "more parameters than fit in `usize`",
        ),
    ];
    for (input, expected) in cases {
        let all = errors(tokens(input));
        assert!(all.iter().any(|e| e.contains(expected)), "{input}: {all:#?}");
    }
}

/// rustc refuses any type of 2⁶¹ bytes or more on a 64-bit target ("values of
/// the type `[f32; N]` are too big for the target architecture", with no
/// span), so a network whose parameters reach that is an error on its
/// declaration instead.
#[test]
#[cfg(target_pointer_width = "64")]
fn sizes_rustc_cannot_lay_out_are_errors() {
    let all = errors(quote! { struct M<f32> { input: 1000000000, Dense(1000000000) } });
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(
        all[0],
        "`M` has 1000000001000000000 parameters, more bytes than a program can address"
    );
    // At the limit: 2⁵⁹ − 2 `f32` parameters (2⁶¹ − 8 bytes) is a type
    // rustc lays out; 2⁵⁹ is not.
    let fits = tokens("struct M<f32> { input: 1, Dense(288230376151711743) }");
    assert!(errors(fits).is_empty());
    let over = tokens("struct M<f32> { input: 1, Dense(288230376151711744) }");
    assert_eq!(errors(over).len(), 1);
    let over = tokens("struct M<f64> { input: 1, Dense(144115188075855872) }");
    assert_eq!(errors(over).len(), 1);
    // Activations count too: one sample's outputs of every layer.
    let all = errors(tokens("struct M<f32> { input: 1, Dense(288230376151711743), ReLU, ReLU }"));
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(all[0].contains("activation values per sample"), "{all:#?}");
    // And so does the input, a vector of its own (here 2⁶⁰ values, pooled
    // down to 2²⁰ without parameters).
    let all =
        errors(tokens("struct M<f32> { input: [1048576, 1048576, 1048576], MaxPool2d(1048576) }"));
    assert_eq!(
        all,
        [
            "`M` has 1152921504606846976 input values per sample, more bytes than a program can address"
        ]
    );
}

/// A network whose parameters rustc can lay out but whose vectors are too
/// large for a thread's stack is accepted: `forward` keeps one sample's
/// activations on the stack, and overflows it at run time (Rust aborts with
/// "thread has overflowed its stack"). The limit depends on the thread and
/// the platform, so the macro does not invent one; the heap-backed batch
/// methods (`forward_batch`, `backprop`) have no such limit.
#[test]
fn sizes_that_fit_the_address_space_are_accepted() {
    assert!(errors(quote! { struct M<f32> { input: 100000000, Dense(10) } }).is_empty());
}

#[test]
fn syntax_errors_still_declare_the_types() {
    for (input, name, public) in [
        ("struct M { input: 2, Dense(3) ReLU }", "M", false),
        ("pub struct Net<f32> { input: 2 Dense(1) }", "Net", true),
        ("pub(crate) struct Net<f32> { input: 2, Dense(1) } struct", "Net", true),
        ("/// Docs.\n pub struct A<f64> { input: 2, Dense(1)() () }", "A", true),
        ("struct A { input: 2, Dense(1) } struct B { ,, }", "B", false),
    ] {
        let out = crate::expand(tokens(input));
        let file: syn::File = syn::parse2(out.clone()).expect("valid Rust");
        assert_eq!(compile_errors(&file.items).len(), 1, "{input}: {out}");
        let found = file.items.iter().find_map(|i| match i {
            syn::Item::Struct(s) if s.ident == name => Some(s),
            _ => None,
        });
        let found = found.unwrap_or_else(|| panic!("{input}: no `{name}` in {out}"));
        assert_eq!(!matches!(found.vis, syn::Visibility::Inherited), public, "{input}: {out}");
    }
    // `struct` followed by a keyword names no type.
    let file: syn::File = syn::parse2(crate::expand(tokens("struct fn { }"))).expect("valid Rust");
    assert!(file.items.iter().all(|i| !matches!(i, syn::Item::Struct(_))));
}

/// A declaration of `n` layers (`Dense(8), ReLU, …`), optionally every
/// other one misspelt.
fn deep(n: usize, misspelt: bool) -> TokenStream {
    let layers: Vec<String> = (0..n)
        .map(|i| match (i % 2, misspelt) {
            (0, _) => "Dense(8)".to_owned(),
            (_, false) => "ReLU".to_owned(),
            (_, true) => "Relu".to_owned(),
        })
        .collect();
    tokens(&format!("struct Deep<f32> {{ input: 8, {} }}", layers.join(", ")))
}

#[test]
fn ten_thousand_layers_expand_in_well_under_a_second() {
    for misspelt in [false, true] {
        let input = deep(10_000, misspelt);
        let start = Instant::now();
        let out = crate::expand(input);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(1), "{took:?} (misspelt: {misspelt})");
        let file: syn::File = syn::parse2(out).expect("valid Rust");
        assert_eq!(compile_errors(&file.items).len(), if misspelt { 5000 } else { 0 });
    }
    // One layer with ten thousand arguments, and a value nested deep.
    let args = vec!["1"; 10_000].join(", ");
    check_expansion(tokens(&format!("struct M {{ input: 2, Dense({args}) }}"))).unwrap();
    let nested = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    check_expansion(tokens(&format!("struct M {{ input: 2, Dense({nested}) }}"))).unwrap();
}

#[test]
fn every_declaration_of_the_readme_still_expands() {
    for input in [
        quote! { pub struct Mnist<f32> { input: 784, Dense(128), ReLU, Dense(128 => 10) } },
        quote! { struct Xor<f64> { input: 2, Dense(4), Tanh, Dense(1), Sigmoid } },
        quote! {
            struct LeNet {
                input: [1, 28, 28],
                Conv2d(6, kernel = 5, padding = 2), ReLU, MaxPool2d(2),
                Conv2d(6 => 16, kernel = 5), ReLU, AvgPool2d(2),
                Flatten, Dense(120), ReLU, Dense(84), ReLU, Dense(10),
            }
        },
    ] {
        let file: syn::File = syn::parse2(crate::expand(input)).expect("valid Rust");
        assert!(compile_errors(&file.items).is_empty());
    }
}
