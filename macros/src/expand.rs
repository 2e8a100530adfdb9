//! Code generation from a checked model. Nothing here can fail or re-checks:
//! every size was resolved by `check`.
//!
//! The output is a struct holding the flat parameters and implementations that
//! chain the runtime's layers with the checked widths; each layer's math lives
//! in the runtime, so the output grows with the number of layers, not with
//! their sizes.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::ast;
use crate::check::{Dims, Kind, Layer, Model};

/// Unsuffixed integer literal: `784`, not `784usize`.
fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// The runtime type of a layer kind.
///
/// Generated bodies start with `use ::perceptra::__private::*;`, so these
/// short names resolve to the runtime's whatever the user's module holds.
///
/// Convolutions and pooling carry every size the macro computed as const
/// parameters (`Conv2d<IN, OUT, C, H, W, O, K, S, P>`); the runtime checks
/// them against each other when it compiles.
fn runtime_type(layer: &Layer) -> TokenStream {
    let (i, o) = (lit(layer.input.len()), lit(layer.output.len()));
    let image = |d: Dims| match d {
        Dims::Image { c, h, w } => (lit(c), lit(h), lit(w)),
        Dims::Flat(n) => (lit(1), lit(1), lit(n)),
    };
    match layer.kind {
        Kind::Dense => quote!(Dense),
        Kind::Conv2d { out, window } => {
            let (c, h, w) = image(layer.input);
            let (out, k, s, p) = (lit(out), lit(window.k), lit(window.s), lit(window.p));
            quote!(Conv2d<#i, #o, #c, #h, #w, #out, #k, #s, #p>)
        }
        Kind::MaxPool2d(window) | Kind::AvgPool2d(window) => {
            let (c, h, w) = image(layer.input);
            let (k, s) = (lit(window.k), lit(window.s));
            let ty = if let Kind::MaxPool2d(_) = layer.kind {
                quote!(MaxPool2d)
            } else {
                quote!(AvgPool2d)
            };
            quote!(#ty<#i, #o, #c, #h, #w, #k, #s>)
        }
        Kind::Flatten => quote!(Flatten),
        Kind::Relu => quote!(Relu),
        Kind::LeakyRelu { .. } => quote!(LeakyRelu),
        Kind::Sigmoid => quote!(Sigmoid),
        Kind::Tanh => quote!(Tanh),
        Kind::Softplus => quote!(Softplus),
        Kind::Softmax => quote!(Softmax),
        Kind::Step => quote!(Step),
        Kind::Elu { .. } => quote!(Elu),
        Kind::Bru { .. } => quote!(Bru),
        Kind::Dropout { .. } => quote!(Dropout),
    }
}

/// The runtime value of a layer, e.g. `Dense` or `Dropout { p: 0.5 }`.
fn runtime_layer(layer: &Layer) -> TokenStream {
    let ty = runtime_type(layer);
    let f = Literal::f64_suffixed;
    match layer.kind {
        Kind::LeakyRelu { slope } => {
            let slope = f(slope);
            quote!(#ty { slope: #slope })
        }
        Kind::Elu { alpha } => {
            let alpha = f(alpha);
            quote!(#ty { alpha: #alpha })
        }
        Kind::Bru { r } => {
            let r = f(r);
            quote!(#ty { r: #r })
        }
        Kind::Dropout { p } => {
            let p = f(p);
            quote!(#ty { p: #p })
        }
        // A unit struct with const parameters is named with a turbofish.
        Kind::Conv2d { .. } | Kind::MaxPool2d(_) | Kind::AvgPool2d(_) => {
            let tokens: Vec<proc_macro2::TokenTree> = ty.into_iter().collect();
            let (name, generics) = tokens.split_at(1);
            let (name, generics): (TokenStream, TokenStream) =
                (name.iter().cloned().collect(), generics.iter().cloned().collect());
            quote!(#name::#generics)
        }
        _ => ty,
    }
}

/// Per-layer pieces every method needs.
struct Wiring {
    /// `Layer::<f32, 784, 128>`
    call: TokenStream,
    /// `&Dense`
    value: TokenStream,
    /// `&__p[0..100480]`, or `&[]` for a layer without parameters
    params: TokenStream,
    /// `&mut __grads[0..100480]`, or `&mut []`
    grads: TokenStream,
    /// `128`
    out: Literal,
}

fn wiring(model: &Model, layer: &Layer) -> Wiring {
    let t = format_ident!("{}", model.scalar.name());
    let (i, o) = (lit(layer.input.len()), lit(layer.output.len()));
    let value = runtime_layer(layer);
    // Errors in the runtime's impls point at the user's layer.
    let call = quote_spanned!(layer.name.span()=> Layer::<#t, #i, #o>);
    let (start, end) = (lit(layer.offset), lit(layer.offset + layer.params));
    let (params, grads) = if layer.params == 0 {
        (quote!(&[]), quote!(&mut []))
    } else {
        (quote!(&__p[#start..#end]), quote!(&mut __grads[#start..#end]))
    };
    Wiring { call, value: quote!(&#value), params, grads, out: lit(layer.output.len()) }
}

pub fn expand(model: &Model) -> TokenStream {
    let ast::Network { attrs, vis, ident, .. } = model.decl;
    let rt = quote!(::perceptra::__private);
    let t = format_ident!("{}", model.scalar.name());
    let (input, output, params) = (lit(model.input.len()), lit(model.output()), lit(model.params));
    let input_shape = model.input.to_vec().into_iter().map(lit);
    let (activations, widest, peak) =
        (lit(model.activations), lit(model.widest), lit(model.peak_activations));
    // The largest scratch any layer asks for, as the runtime computes it.
    let scratch_terms = model.layers.iter().map(|l| {
        let (ty, i, o) = (runtime_type(l), lit(l.input.len()), lit(l.output.len()));
        quote!(<#ty as Layer<#t, #i, #o>>::SCRATCH)
    });
    let scratch = quote! {{
        use ::perceptra::__private::*;
        let mut __max = 0;
        #( if #scratch_terms > __max { __max = #scratch_terms; } )*
        __max
    }};
    let name = ident.to_string();
    let wires: Vec<Wiring> = model.layers.iter().map(|l| wiring(model, l)).collect();

    // The type users name for one sample, spanned on their `input:` so that
    // a wrong-size vector is reported against the declaration.
    let input_ty = quote_spanned!(model.input_span=> #rt::SVector<#t, #input>);
    // Named with the span of `input: 784`, so rustc's "method defined here"
    // under a wrong-size argument shows the declared width.
    let forward_fn = proc_macro2::Ident::new("forward", model.input_span);
    let output_ty = quote!(#rt::SVector<#t, #output>);

    let layer_infos = model.layers.iter().map(|l| {
        let (index, kind, label) = (lit(l.index), l.kind.name(), l.kind.label(l.input, l.output));
        let (out, count) = (l.output.to_vec().into_iter().map(lit), lit(l.params));
        let tensors = l.tensors().into_iter().map(|t| {
            let (name, dims, at, n) =
                (t.name, t.shape.into_iter().map(lit), lit(t.offset), lit(t.len));
            quote!(#rt::TensorInfo { name: #name, shape: &[#(#dims),*], offset: #at, len: #n })
        });
        quote! {
            #rt::LayerInfo {
                index: #index, kind: #kind, label: #label, output: &[#(#out),*], params: #count,
                tensors: &[#(#tensors),*],
            }
        }
    });

    // The runtime's parameter counts must agree with the offsets used here.
    let param_checks = model.layers.iter().map(|l| {
        let (ty, i, o, count) =
            (runtime_type(l), lit(l.input.len()), lit(l.output.len()), lit(l.params));
        let msg = format!(
            "perceptra: the runtime disagrees on the parameters of `{}`",
            l.kind.label(l.input, l.output)
        );
        quote!(::core::assert!(<#ty as Layer<#t, #i, #o>>::PARAMS == #count, #msg);)
    });

    let init = model.layers.iter().zip(&wires).filter(|(l, _)| l.params > 0).map(|(l, w)| {
        let Wiring { call, value, .. } = w;
        let (start, end) = (lit(l.offset), lit(l.offset + l.params));
        quote!(#call::init(#value, &mut __params[#start..#end], __rng);)
    });

    // forward: one sample, values on the stack.
    let forward = wires.iter().enumerate().map(|(i, w)| {
        let Wiring { call, value, params, .. } = w;
        let (x, y) = (format_ident!("__x{}", i), format_ident!("__x{}", i + 1));
        let x = if i == 0 { quote!(#x) } else { quote!(&#x) };
        quote!(let #y = #call::forward(#value, #params, #x);)
    });
    let last = format_ident!("__x{}", wires.len());

    // forward_slices: every layer's output into its own part of `__acts`,
    // the rest of which is the layers' scratch.
    let take_outputs = wires.iter().enumerate().map(|(i, w)| {
        let (a, out) = (format_ident!("__a{}", i), &w.out);
        quote!(let #a = take_mut(&mut __acts, #out * __n);)
    });
    let forward_batch = wires.iter().enumerate().map(|(i, w)| {
        let Wiring { call, value, params, .. } = w;
        let x = if i == 0 {
            quote!(__x)
        } else {
            let a = format_ident!("__a{}", i - 1);
            quote!(#a)
        };
        let a = format_ident!("__a{}", i);
        let index = lit(i);
        quote!(#call::forward_batch(#value, #params, #x, #a, __scratch, __mode.layer(#index));)
    });

    // backward_slices: the layers in reverse, ∂L/∂y and ∂L/∂x alternating
    // between the two halves of the scratch space.
    let take_acts = wires.iter().enumerate().map(|(i, w)| {
        let (a, out) = (format_ident!("__a{}", i), &w.out);
        quote!(let #a = take(&mut __acts, #out * __n);)
    });
    let backward = model.layers.iter().zip(&wires).enumerate().rev().map(|(i, (l, w))| {
        let Wiring { call, value, params, grads, out } = w;
        let x = if i == 0 {
            quote!(__x)
        } else {
            let a = format_ident!("__a{}", i - 1);
            quote!(#a)
        };
        let y = format_ident!("__a{}", i);
        let steps_from_end = wires.len() - 1 - i;
        let (dy, dx) = if steps_from_end.is_multiple_of(2) {
            (quote!(__d0), quote!(__d1))
        } else {
            (quote!(__d1), quote!(__d0))
        };
        let input = lit(l.input.len());
        let dx = if i == 0 {
            quote!(__dx)
        } else {
            quote!(::core::option::Option::Some(&mut #dx[..#input * __n]))
        };
        let index = lit(i);
        quote! {
            #call::backward_batch(
                #value,
                #params,
                Saved { x: #x, y: #y, mode: __mode.layer(#index) },
                &#dy[..#out * __n],
                #dx,
                #grads,
                __scratch,
            );
        }
    });

    let baked = model.baked.as_ref().map(|b| {
        let path = b.path.to_string_lossy().into_owned();
        let pieces = b.pieces.iter().map(|p| {
            let (at, to, len, wide) = (lit(p.at), lit(p.to), lit(p.len), p.wide);
            quote!(#rt::Piece { at: #at, to: #to, len: #len, wide: #wide })
        });
        let decode = format_ident!("decode_{}", model.scalar.name());
        let doc = format!(
            "`{name}` with the weights of `{}`, baked into the program when it compiled: \
             a `static` in read-only memory (flash), neither parsed nor copied at run time.",
            b.written
        );
        quote! {
            impl #ident<&'static [#t; #params]> {
                #[doc = #doc]
                pub const fn baked() -> Self {
                    // Decoding 10⁵ scalars takes the compile-time evaluator
                    // a while; that is expected here.
                    #[allow(long_running_const_eval)]
                    static WEIGHTS: [#t; #params] =
                        #rt::#decode::<#params>(::core::include_bytes!(#path), &[#(#pieces),*]);
                    Self::from_params(&WEIGHTS)
                }
            }
        }
    });

    let doc_new = format!(
        "A new `{name}` on the heap, initialised like PyTorch's default for each layer \
         (for `Dense`: weight and bias uniform in ±1/√in)."
    );
    let doc_forward = format!(
        "Runs one sample ({}, shape `{}`) through the network in inference mode.",
        model.scalar.name(),
        model.input
    );

    quote! {
        #(#attrs)*
        #vis struct #ident<__S = #rt::DefaultParams<#t, #params>> {
            params: __S,
        }

        impl #ident {
            /// Scalars in one input sample.
            pub const INPUT: usize = #input;
            /// Scalars in one output.
            pub const OUTPUT: usize = #output;
            /// Scalars of parameters.
            pub const PARAMS: usize = #params;
            /// The layers, with their PyTorch tensor names, shapes and offsets.
            pub const LAYERS: &'static [#rt::LayerInfo] = <Self as #rt::Network>::LAYERS;
        }

        #rt::if_alloc! {
            impl #ident {
                #[doc = #doc_new]
                pub fn new<__R: #rt::Rng + ?::core::marker::Sized>(rng: &mut __R) -> Self {
                    Self::from_params(#rt::boxed_params(|__params| {
                        <Self as #rt::Network>::init_params(__params, rng)
                    }))
                }
            }
        }

        #baked

        impl<__S> #ident<__S> {
            /// Wraps parameters (`PARAMS` scalars in PyTorch `state_dict` order):
            /// a `Box`, an array, or a reference to a `static` array in flash.
            pub const fn from_params(params: __S) -> Self {
                Self { params }
            }

            /// The parameters' storage.
            pub fn into_params(self) -> __S {
                self.params
            }
        }

        impl<__S: #rt::Borrow<[#t; #params]>> #ident<__S> {
            #[doc = #doc_forward]
            #[inline]
            pub fn #forward_fn(&self, x: &#input_ty) -> #output_ty {
                <Self as #rt::Network>::forward(self, x)
            }
        }

        const _: () = {
            use ::perceptra::__private::*;
            #(#param_checks)*
        };

        impl<__S: #rt::Borrow<[#t; #params]>> #rt::Network for #ident<__S> {
            type Scalar = #t;
            type Input = #input_ty;
            type Output = #output_ty;

            const NAME: &'static str = #name;
            const INPUT: usize = #input;
            const INPUT_SHAPE: &'static [usize] = &[#(#input_shape),*];
            const OUTPUT: usize = #output;
            const PARAMS: usize = #params;
            const ACTIVATIONS: usize = #activations;
            const WIDEST: usize = #widest;
            const SCRATCH: usize = #scratch;
            const PEAK_ACTIVATIONS: usize = #peak;
            const LAYERS: &'static [#rt::LayerInfo] = &[#(#layer_infos),*];

            #[inline]
            fn params(&self) -> &[#t] {
                #rt::Borrow::<[#t; #params]>::borrow(&self.params)
            }

            fn init_params<__R: #rt::Rng + ?::core::marker::Sized>(__params: &mut [#t], __rng: &mut __R) {
                use ::perceptra::__private::*;
                #(#init)*
            }

            #[inline]
            fn forward(&self, __x0: &#input_ty) -> #output_ty {
                use ::perceptra::__private::*;
                let __p = Network::params(self);
                #(#forward)*
                #last
            }

            fn forward_slices(&self, __x: &[#t], __acts: &mut [#t], __mode: #rt::Mode) {
                use ::perceptra::__private::*;
                let __p = Network::params(self);
                let __n = __x.len() / #input;
                let mut __acts = __acts;
                #(#take_outputs)*
                let __scratch = __acts;
                #(#forward_batch)*
            }

            fn backward_slices(
                &self,
                __x: &[#t],
                __acts: &[#t],
                __scratch: &mut [#t],
                __grads: &mut [#t],
                __dx: ::core::option::Option<&mut [#t]>,
                __mode: #rt::Mode,
            ) {
                use ::perceptra::__private::*;
                let __p = Network::params(self);
                let __n = __x.len() / #input;
                let mut __acts = __acts;
                #(#take_acts)*
                let (__d0, __scratch) = __scratch.split_at_mut(#widest * __n);
                let (__d1, __scratch) = __scratch.split_at_mut(#widest * __n);
                #(#backward)*
            }
        }

        impl<__S: #rt::BorrowMut<[#t; #params]>> #rt::NetworkMut for #ident<__S> {
            #[inline]
            fn params_mut(&mut self) -> &mut [#t] {
                #rt::BorrowMut::<[#t; #params]>::borrow_mut(&mut self.params)
            }
        }
    }
}

/// What stands in for a declaration with errors, so that only the errors
/// show and not a cascade of "cannot find type" at every use.
pub fn stub(decl: &ast::Network) -> TokenStream {
    let ast::Network { attrs, vis, ident, .. } = decl;
    let docs = attrs.iter().filter(|a| a.path().is_ident("doc"));
    quote! {
        #(#docs)*
        #vis struct #ident<__S = ()>(::core::marker::PhantomData<__S>);

        impl #ident {
            /// Not available: the declaration has errors.
            #[allow(dead_code)]
            pub fn new<__R: ?::core::marker::Sized>(_: &mut __R) -> Self {
                ::core::unreachable!()
            }
        }
    }
}
