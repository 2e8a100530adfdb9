//! Syntax: what a `network!` invocation says, with the user's tokens kept for
//! error spans. Nothing here knows what a layer is.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Token, Type, Visibility, bracketed, parenthesized, token};

/// A whole invocation: one or more network declarations.
pub struct Input {
    pub networks: Vec<Network>,
}

/// `#[attrs] pub struct Name<f32> { input: 784, Dense(10), ... }`
pub struct Network {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// The `f32` in `<f32>`, if given.
    pub scalar: Option<Type>,
    pub brace: token::Brace,
    pub entries: Vec<Entry>,
}

/// One comma-separated entry of the body.
pub enum Entry {
    /// `key: value`, such as `input: 784`.
    Setting(Setting),
    /// `Name` or `Name(args)`.
    Layer(LayerAst),
}

pub struct Setting {
    pub key: Ident,
    pub value: Shape,
}

/// A width `784` or a shape `[1, 28, 28]`.
pub enum Shape {
    Scalar(Value),
    List { bracket: token::Bracket, dims: Punctuated<Value, Token![,]> },
}

pub struct LayerAst {
    pub name: Ident,
    pub args: Option<Args>,
}

pub struct Args {
    pub paren: token::Paren,
    pub list: Punctuated<Arg, Token![,]>,
}

/// One argument of a layer.
pub enum Arg {
    /// `128`
    Value(Value),
    /// `128 => 10`
    Arrow { from: Value, to: Value },
    /// `p = 0.5`
    Named { name: Ident, value: Value },
}

/// A literal argument, with an optional minus sign, or anything else the
/// checker will reject with a message.
pub enum Value {
    Int { neg: Option<Token![-]>, lit: syn::LitInt },
    Float { neg: Option<Token![-]>, lit: syn::LitFloat },
    Other(TokenStream),
}

impl Value {
    /// The span of the whole value (minus sign included where the compiler
    /// can join spans).
    pub fn span(&self) -> Span {
        let tokens = self.to_token_stream();
        let mut iter = tokens.into_iter();
        let first = iter.next().map_or_else(Span::call_site, |t| t.span());
        iter.last().and_then(|t| first.join(t.span())).unwrap_or(first)
    }
}

impl ToTokens for Value {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Value::Int { neg, lit } => {
                neg.to_tokens(tokens);
                lit.to_tokens(tokens);
            }
            Value::Float { neg, lit } => {
                neg.to_tokens(tokens);
                lit.to_tokens(tokens);
            }
            Value::Other(other) => other.to_tokens(tokens),
        }
    }
}

impl ToTokens for Shape {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Shape::Scalar(v) => v.to_tokens(tokens),
            Shape::List { bracket, dims } => bracket.surround(tokens, |t| dims.to_tokens(t)),
        }
    }
}

impl ToTokens for Arg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Arg::Value(v) => v.to_tokens(tokens),
            Arg::Arrow { from, to } => {
                from.to_tokens(tokens);
                <Token![=>]>::default().to_tokens(tokens);
                to.to_tokens(tokens);
            }
            Arg::Named { name, value } => {
                name.to_tokens(tokens);
                <Token![=]>::default().to_tokens(tokens);
                value.to_tokens(tokens);
            }
        }
    }
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut networks = Vec::new();
        while !input.is_empty() {
            networks.push(input.parse()?);
        }
        if networks.is_empty() {
            return Err(input.error(
                "expected a network declaration, e.g. `struct Xor<f32> { input: 2, Dense(1) }`",
            ));
        }
        Ok(Input { networks })
    }
}

impl Parse for Network {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident = input.parse()?;
        let scalar = if input.peek(Token![<]) {
            input.parse::<Token![<]>()?;
            let ty = input.parse()?;
            input.parse::<Token![>]>()?;
            Some(ty)
        } else {
            None
        };
        let body;
        let brace = syn::braced!(body in input);
        let entries = Punctuated::<Entry, Token![,]>::parse_terminated(&body)?;
        Ok(Network { attrs, vis, ident, scalar, brace, entries: entries.into_iter().collect() })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if input.peek(Token![:]) && !input.peek(Token![::]) {
            input.parse::<Token![:]>()?;
            return Ok(Entry::Setting(Setting { key: name, value: input.parse()? }));
        }
        let args = if input.peek(token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            Some(Args { paren, list: Punctuated::parse_terminated(&content)? })
        } else {
            None
        };
        Ok(Entry::Layer(LayerAst { name, args }))
    }
}

impl Parse for Shape {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            Ok(Shape::List { bracket, dims: Punctuated::parse_terminated(&content)? })
        } else {
            Ok(Shape::Scalar(input.parse()?))
        }
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if (input.peek(Ident) || input.peek(Token![_]))
            && input.peek2(Token![=])
            && !input.peek2(Token![=>])
        {
            let name = input.call(syn::ext::IdentExt::parse_any)?;
            input.parse::<Token![=]>()?;
            return Ok(Arg::Named { name, value: input.parse()? });
        }
        let from = input.parse()?;
        if input.peek(Token![=>]) {
            input.parse::<Token![=>]>()?;
            return Ok(Arg::Arrow { from, to: input.parse()? });
        }
        Ok(Arg::Value(from))
    }
}

impl Parse for Value {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let signed =
            input.peek(Token![-]) && (input.peek2(syn::LitInt) || input.peek2(syn::LitFloat));
        let neg: Option<Token![-]> = if signed { Some(input.parse()?) } else { None };
        if input.peek(syn::LitInt) {
            return Ok(Value::Int { neg, lit: input.parse()? });
        }
        if input.peek(syn::LitFloat) {
            return Ok(Value::Float { neg, lit: input.parse()? });
        }
        // Anything else up to the next `,` or `=>`, kept for the message.
        let mut other = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) && !input.peek(Token![=>]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            other.extend([tt]);
        }
        if other.is_empty() {
            return Err(input.error("expected a value"));
        }
        Ok(Value::Other(other))
    }
}
