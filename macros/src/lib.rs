//! The `network!` macro of [perceptra](https://docs.rs/perceptra).
//!
//! Three one-way stages, one module each: [`ast`] parses the declaration and
//! keeps the user's tokens for spans, [`check`] resolves every width and
//! reports every mistake on the tokens that cause it, and [`expand`] writes
//! the code, which cannot fail. Everything works on `proc_macro2` streams, so
//! the stages are unit-tested without a compiler.

mod ast;
mod check;
mod expand;
mod suggest;

use proc_macro::TokenStream;

/// Declares a neural network whose shapes the compiler checks.
///
/// ```ignore
/// use perceptra::prelude::*;
///
/// network! {
///     /// Doc comments and attributes pass through.
///     pub struct Mnist<f32> {
///         input: 784,
///         Dense(128), ReLU,
///         Dense(128 => 10),
///     }
/// }
/// ```
///
/// See the `perceptra` crate for the layers, what is generated, and the
/// errors this reports.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    expand(input.into()).into()
}

/// Parses, checks and expands a `network!` invocation: generated code, or the
/// errors as `compile_error!`s followed by stubs of the declared types.
fn expand(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let decls = match syn::parse2::<ast::Input>(input) {
        Ok(input) => input.networks,
        Err(err) => return err.into_compile_error(),
    };
    decls
        .iter()
        .map(|decl| match check::check(decl) {
            Ok(model) => expand::expand(&model),
            Err(err) => {
                let mut out = err.into_compile_error();
                out.extend(expand::stub(decl));
                out
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
