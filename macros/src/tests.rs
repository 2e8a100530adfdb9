//! Unit tests of the three stages on token streams.

use proc_macro2::TokenStream;
use quote::quote;

use crate::{ast, check};

/// The messages of every error the macro reports for `input`.
fn errors(input: TokenStream) -> Vec<String> {
    let decls = match syn::parse2::<ast::Input>(input) {
        Ok(input) => input.networks,
        Err(err) => return err.into_iter().map(|e| e.to_string()).collect(),
    };
    decls
        .iter()
        .filter_map(|d| check::check(d).err())
        .flat_map(|e| e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>())
        .collect()
}

/// The single error for `input`.
fn error(input: TokenStream) -> String {
    let all = errors(input);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.into_iter().next().unwrap_or_default()
}

fn model_sizes(input: TokenStream) -> (usize, usize, usize, Vec<(usize, usize, usize)>) {
    let decls = syn::parse2::<ast::Input>(input).expect("parses").networks;
    let m = check::check(&decls[0]).map_err(|e| e.to_string()).expect("checks");
    let layers = m.layers.iter().map(|l| (l.input.len(), l.output.len(), l.offset)).collect();
    (m.input.len(), m.output(), m.params, layers)
}

#[test]
fn widths_are_inferred_and_offsets_accumulate() {
    let (input, output, params, layers) = model_sizes(quote! {
        pub struct Mnist<f32> { input: 784, Dense(128), ReLU, Dense(128 => 10) }
    });
    assert_eq!((input, output, params), (784, 10, 784 * 128 + 128 + 128 * 10 + 10));
    assert_eq!(layers, vec![(784, 128, 0), (128, 128, 100_480), (128, 10, 100_480)]);
}

#[test]
fn activations_keep_width_and_add_no_parameters() {
    let (_, output, params, _) = model_sizes(quote! {
        struct A<f64> {
            input: 3, Dense(4), LeakyReLU(0.2), Sigmoid, Tanh, Softplus, Dropout(0.1), Softmax,
        }
    });
    assert_eq!((output, params), (4, 16));
}

#[test]
fn mismatched_explicit_width_names_both() {
    let msg = error(quote! { struct M<f32> { input: 784, Dense(64), Dense(128 => 10) } });
    assert_eq!(
        msg,
        "`Dense(128 => 10)` expects 128 inputs, but the layer before it produces 64; \
         write `Dense(64 => 10)`, or `Dense(10)` to take the width from the layer before"
    );
    let msg = error(quote! { struct M<f32> { input: 784, Dense(100 => 10) } });
    assert!(msg.contains("but `input` is 784 wide"), "{msg}");
}

#[test]
fn one_mistake_gives_one_message() {
    // The unknown layer's width is unknown, so the explicit width after it is
    // not compared with anything.
    let all = errors(quote! { struct M<f32> { input: 4, Dens(8), Dense(8 => 2) } });
    assert_eq!(all, vec!["unknown layer `Dens`; did you mean `Dense`?".to_owned()]);
}

#[test]
fn every_error_is_reported_in_one_pass() {
    let all = errors(quote! {
        struct M<i32> { input: 0, Dense(0), Relu, Dropout(1.5), Dense(3 => 2) }
    });
    assert_eq!(all.len(), 5, "{all:#?}");
    assert!(all[0].starts_with("expected `f32` or `f64`"), "{all:#?}");
}

#[test]
fn zero_widths_are_rejected() {
    assert_eq!(
        error(quote! { struct M { input: 0, Dense(1) } }),
        "`input` must be at least 1 wide, found `0`"
    );
    assert_eq!(
        error(quote! { struct M { input: 1, Dense(0) } }),
        "`Dense` must be at least 1 wide, found `0`"
    );
}

#[test]
fn unknown_layers_get_a_suggestion() {
    assert_eq!(
        error(quote! { struct M { input: 1, Relu } }),
        "unknown layer `Relu`; did you mean `ReLU`?"
    );
    assert_eq!(
        error(quote! { struct M { input: 1, Linear(3) } }),
        "unknown layer `Linear`; perceptra calls it `Dense`"
    );
    let msg = error(quote! { struct M { input: 1, Attention(3) } });
    assert!(
        msg.starts_with("unknown layer `Attention`; expected one of `Dense`, `Conv2d`"),
        "{msg}"
    );
}

/// The output shapes of every layer of a declaration.
fn shapes(input: TokenStream) -> Vec<String> {
    let decls = syn::parse2::<ast::Input>(input).expect("parses").networks;
    let m = check::check(&decls[0]).map_err(|e| e.to_string()).expect("checks");
    m.layers.iter().map(|l| l.output.to_string()).collect()
}

#[test]
fn convolution_shapes_follow_pytorch() {
    let lenet = shapes(quote! {
        struct LeNet {
            input: [1, 28, 28],
            Conv2d(6, kernel = 5, padding = 2), ReLU, MaxPool2d(2),
            Conv2d(6 => 16, kernel = 5), ReLU, AvgPool2d(2),
            Flatten, Dense(120), ReLU, Dense(84), ReLU, Dense(10),
        }
    });
    assert_eq!(
        lenet,
        [
            "[6, 28, 28]",
            "[6, 28, 28]",
            "[6, 14, 14]",
            "[16, 10, 10]",
            "[16, 10, 10]",
            "[16, 5, 5]",
            "[400]",
            "[120]",
            "[120]",
            "[84]",
            "[84]",
            "[10]"
        ]
    );
    // ⌊(in + 2p − k) / s⌋ + 1, pooling with an explicit stride.
    let strided = shapes(quote! {
        struct S { input: [3, 7, 9], Conv2d(4, kernel = 3, stride = 2, padding = 1), MaxPool2d(3, stride = 2) }
    });
    assert_eq!(strided, ["[4, 4, 5]", "[4, 1, 2]"]);
    let pytorch_names =
        shapes(quote! { struct S { input: [1, 5, 5], Conv2d(2, kernel_size = 3) } });
    assert_eq!(pytorch_names, ["[2, 3, 3]"]);
}

#[test]
fn convolution_parameters_are_pytorch_tensors() {
    let decls = syn::parse2::<ast::Input>(quote! {
        struct C { input: [3, 8, 8], Conv2d(4, kernel = 3), Flatten, Dense(2) }
    })
    .unwrap()
    .networks;
    let m = check::check(&decls[0]).map_err(|e| e.to_string()).unwrap();
    assert_eq!(m.layers[0].params, 4 * 3 * 3 * 3 + 4);
    assert_eq!(
        m.layers[0].kind.tensors(m.layers[0].input, m.layers[0].output),
        [("weight", vec![4, 3, 3, 3]), ("bias", vec![4])]
    );
    assert_eq!(m.layers[2].offset, 112);
    assert_eq!(
        m.layers[0].kind.label(m.layers[0].input, m.layers[0].output),
        "Conv2d(3 => 4, kernel = 3)"
    );
}

#[test]
fn image_shape_mistakes_are_errors() {
    assert_eq!(
        error(quote! { struct M { input: [1, 28, 28], Conv2d(4, kernel = 3), Dense(10) } }),
        "`Dense` needs a flat input, but the layer before it produces [4, 26, 26]; add `Flatten` \
         before it (it gives 2704 values)"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 4, 4], Conv2d(4, kernel = 5) } }),
        "`Conv2d`'s 5×5 kernel does not fit its input: `input` is [1, 4, 4]; use a smaller \
         kernel, or more padding"
    );
    assert!(
        error(quote! { struct M { input: [1, 4, 4], Conv2d(4, kernel = 7, padding = 1) } })
            .contains("6×6 with padding 1"),
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 3, 3], MaxPool2d(4) } }),
        "`MaxPool2d`'s 4×4 window does not fit its input: `input` is [1, 3, 3], 3×3 per channel"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(3 => 4, kernel = 3) } }),
        "`Conv2d(3 => 4, ..)` expects 3 input channels, but `input` has 1 channel; write \
         `Conv2d(1 => 4, ..)`, or `Conv2d(4, ..)` to take the channels from the layer before"
    );
    assert!(error(quote! { struct M { input: 784, Conv2d(4, kernel = 3) } })
        .starts_with("`Conv2d` needs an image input `[channels, height, width]`, but `input` is a flat vector of 784"));
    assert!(
        error(quote! { struct M { input: [2, 3, 3], Softmax } })
            .starts_with("`Softmax` needs a flat input")
    );
}

#[test]
fn zero_sizes_in_images_are_errors() {
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(0, kernel = 3) } }),
        "`Conv2d` must have at least 1 channel, found `0`"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(2, kernel = 0) } }),
        "`Conv2d`'s kernel must be at least 1 wide, found `0`"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(2, kernel = 3, stride = 0) } }),
        "`Conv2d`'s stride must be at least 1, found `0`"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], MaxPool2d(2, stride = 0) } }),
        "`MaxPool2d`'s stride must be at least 1, found `0`"
    );
    assert_eq!(
        error(quote! { struct M { input: [0, 8, 8], Flatten } }),
        "the input must have at least 1 channel, found `0`"
    );
    assert!(
        errors(quote! { struct M { input: [1, 8, 8], Conv2d(2, kernel = 3, padding = 0) } })
            .is_empty()
    );
}

#[test]
fn convolution_arguments_are_checked() {
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(2) } }),
        "`Conv2d` needs a kernel size: `Conv2d(out_channels, kernel = k)` (optionally `stride = s`, `padding = p`)"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(2, kernal = 3) } }),
        "`Conv2d` has no argument `kernal`; did you mean `kernel`?"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(2, kernel = 3, kernel = 3) } }),
        "`kernel` is given twice"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8, 8], Conv2d(2, 3) } }),
        "`Conv2d` takes one positional argument; name the others, e.g. `stride = 2`"
    );
    assert_eq!(
        error(quote! { struct M { input: [1, 8], Flatten } }),
        "`input` takes a width like `784` or an image shape `[channels, height, width]`, found 2 dimensions"
    );
}

#[test]
fn teaching_activations_take_their_parameters() {
    assert!(
        errors(quote! { struct M { input: 2, Dense(3), Step, Elu(0.5), Bru(2), Elu, Dense(1) } })
            .is_empty()
    );
    assert_eq!(
        error(quote! { struct M { input: 2, Bru } }),
        "`Bru` needs its parameter: `Bru(r)` with `r > 0`"
    );
    assert_eq!(
        error(quote! { struct M { input: 2, Bru(0) } }),
        "`Bru(r)` needs `r > 0`, found `0`"
    );
    assert_eq!(error(quote! { struct M { input: 2, Step(1) } }), "`Step` takes no arguments");
}

#[test]
fn input_must_be_declared_once_and_first() {
    assert_eq!(
        error(quote! { struct M { Dense(3) } }),
        "`M` has no `input`; declare its shape first, e.g. `input: 784,` or `input: [1, 28, 28],`"
    );
    assert_eq!(
        error(quote! { struct M { input: 3, input: 4, Dense(3) } }),
        "`input` is declared twice; keep one"
    );
    assert_eq!(
        error(quote! { struct M { Dense(3), input: 4 } }).split(';').next(),
        Some("`input` must come before the layers")
    );
    assert_eq!(
        error(quote! { struct M { inputs: 4, Dense(3) } }),
        "unknown setting `inputs`; did you mean `input`?"
    );
}

#[test]
fn dropout_probability_must_be_below_one() {
    assert_eq!(
        error(quote! { struct M { input: 2, Dropout(1.0) } }),
        "dropout probability must be in [0, 1), found `1.0`"
    );
    assert_eq!(
        error(quote! { struct M { input: 2, Dropout(-0.1) } }),
        "dropout probability must be in [0, 1), found `-0.1`"
    );
    assert!(
        errors(quote! { struct M { input: 2, Dropout(0), Dropout(p = 0.3), Dropout } }).is_empty()
    );
}

#[test]
fn arguments_of_the_wrong_kind_say_what_was_expected() {
    assert_eq!(
        error(quote! { struct M { input: 2, Dense(1.5) } }),
        "`Dense` expects an integer width, found `1.5`"
    );
    assert!(
        error(quote! { struct M { input: 2, Dense(N) } })
            .starts_with("`Dense` expects an integer width, found `N`; ")
    );
    assert_eq!(
        error(quote! { struct M { input: 2, Dense(-3) } }),
        "`Dense` must be a positive integer, found `-3`"
    );
    assert_eq!(error(quote! { struct M { input: 2, ReLU(3) } }), "`ReLU` takes no arguments");
    assert_eq!(
        error(quote! { struct M { input: 2, Dense(3, 4) } }),
        "`Dense` takes one argument: `Dense(out)` or `Dense(in => out)`"
    );
    assert_eq!(
        error(quote! { struct M { input: 2, Dense } }),
        "`Dense` needs its output width: `Dense(out)` or `Dense(in => out)`"
    );
    assert_eq!(
        error(quote! { struct M { input: 2, Dropout("x") } }),
        "`Dropout` expects a number like `0.5`, found `\"x\"`"
    );
    assert_eq!(
        error(quote! { struct M { input: 2, LeakyReLU(alpha = 0.1) } }),
        "`LeakyReLU` has no argument `alpha`; expected `slope` or `negative_slope`"
    );
    assert_eq!(
        error(quote! { struct M { input: 2, LeakyReLU(1e999) } }),
        "`LeakyReLU` expects a finite number, found `1e999`"
    );
}

#[test]
fn sizes_that_overflow_are_errors() {
    let msg =
        error(quote! { struct M { input: 18446744073709551615, Dense(18446744073709551615) } });
    assert!(msg.contains("more parameters than fit in `usize`"), "{msg}");
    let msg = error(quote! { struct M { input: 99999999999999999999999, Dense(1) } });
    assert_eq!(msg, "width `99999999999999999999999` is too large");
    let msg = error(quote! { struct M<f64> { input: 2147483648, Dense(2147483648) } });
    assert!(msg.contains("more bytes than a program can address"), "{msg}");
}

#[test]
fn syntax_errors_come_from_the_parser() {
    assert_eq!(error(quote! { struct M { input: 2, Dense(3) ReLU } }), "expected `,`");
    let msg = error(quote! {});
    assert!(msg.contains("expected a network declaration"), "{msg}");
}

#[test]
fn several_networks_in_one_invocation() {
    let out = crate::expand(quote! {
        struct A { input: 2, Dense(1) }
        struct B<f64> { input: 3, Dense(2) }
    });
    let file: syn::File = syn::parse2(out).expect("valid Rust");
    let structs = file.items.iter().filter(|i| matches!(i, syn::Item::Struct(_))).count();
    assert_eq!(structs, 2);
}

#[test]
fn errors_still_declare_the_type() {
    let out = crate::expand(quote! { pub struct Broken<f32> { input: 2, Nope } }).to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("struct Broken"), "{out}");
}

/// The expansion of the README's network, checked in at
/// `macros/src/snapshots/mnist.expanded.rs` for readers (and reviewers) to
/// see what the macro writes. Regenerate with `PERCEPTRA_BLESS=1`.
#[test]
fn expansion_snapshot() {
    let out = crate::expand(quote! {
        /// Doc comments and attributes on the struct pass through.
        pub struct Mnist<f32> {
            input: 784,
            Dense(128), ReLU,
            Dense(128 => 10),
        }
    });
    let file: syn::File = syn::parse2(out).expect("the expansion is valid Rust");
    let pretty = prettyplease::unparse(&file);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/snapshots/mnist.expanded.rs");
    let text = format!(
        "// What `network!` writes for the README's `Mnist`; regenerate with\n\
         // `PERCEPTRA_BLESS=1 cargo test -p perceptra-macros`.\n\n{pretty}"
    );
    if std::env::var_os("PERCEPTRA_BLESS").is_some() {
        std::fs::write(path, &text).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        expected == text,
        "the expansion changed; rerun with PERCEPTRA_BLESS=1 and read the diff:\n{text}"
    );
}

#[test]
fn expansion_grows_with_layers_not_sizes() {
    fn tokens(stream: TokenStream) -> usize {
        stream
            .into_iter()
            .map(|t| match t {
                proc_macro2::TokenTree::Group(g) => 1 + tokens(g.stream()),
                _ => 1,
            })
            .sum()
    }
    let small = tokens(crate::expand(quote! { struct M { input: 2, Dense(3), ReLU, Dense(2) } }));
    let large =
        tokens(crate::expand(quote! { struct M { input: 2000, Dense(3000), ReLU, Dense(2000) } }));
    let deeper = tokens(crate::expand(
        quote! { struct M { input: 2, Dense(3), ReLU, Dense(3), ReLU, Dense(2) } },
    ));
    assert_eq!(small, large);
    assert!(deeper > small);
}
