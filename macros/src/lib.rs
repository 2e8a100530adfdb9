//! The `network!` macro of [perceptra](https://docs.rs/perceptra).
//!
//! Three one-way stages, one module each: [`ast`] parses the declaration and
//! keeps the user's tokens for spans, [`check`] resolves every width and
//! reports every mistake on the tokens that cause it, and [`expand`] writes
//! the code, which cannot fail. Everything works on `proc_macro2` streams, so
//! the stages are unit-tested without a compiler.

mod ast;
mod baked;
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
    let decls = match syn::parse2::<ast::Input>(input.clone()) {
        Ok(input) => input.networks,
        Err(err) => {
            let mut out = err.into_compile_error();
            out.extend(named_structs(input).iter().map(expand::stub));
            return out;
        }
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

/// The types a declaration that does not parse still names, found as
/// `[pub] struct Name` at its top level: their stubs follow the syntax error,
/// so that it shows alone and not with "cannot find type" at every use.
fn named_structs(input: proc_macro2::TokenStream) -> Vec<ast::Network> {
    use proc_macro2::TokenTree;
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let mut found = Vec::new();
    for (i, pair) in tokens.windows(2).enumerate() {
        let [TokenTree::Ident(keyword), name] = pair else { continue };
        // `syn::Ident` refuses keywords, which cannot name a type.
        let Ok(ident) = syn::parse2::<syn::Ident>(name.clone().into()) else { continue };
        if keyword != "struct" {
            continue;
        }
        // `pub` or `pub(crate)` just before `struct`.
        let before = &tokens[..i];
        let vis = [2, 1]
            .iter()
            .filter_map(|&n| before.get(before.len().checked_sub(n)?..))
            .find_map(|t| syn::parse2::<syn::Visibility>(t.iter().cloned().collect()).ok())
            .unwrap_or(syn::Visibility::Inherited);
        found.push(ast::Network {
            attrs: Vec::new(),
            vis,
            ident,
            scalar: None,
            brace: Default::default(),
            entries: Vec::new(),
        });
    }
    found
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
