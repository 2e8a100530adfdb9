// What `network!` writes for the README's `Mnist`; regenerate with
// `PERCEPTRA_BLESS=1 cargo test -p perceptra-macros`.

/// Doc comments and attributes on the struct pass through.
pub struct Mnist<__S = ::perceptra::__private::DefaultParams<f32, 101770>> {
    params: __S,
}
impl Mnist {
    /// Scalars in one input sample.
    pub const INPUT: usize = 784;
    /// Scalars in one output.
    pub const OUTPUT: usize = 10;
    /// Scalars of parameters.
    pub const PARAMS: usize = 101770;
    /// The layers, with their PyTorch tensor names, shapes and offsets.
    pub const LAYERS: &'static [::perceptra::__private::LayerInfo] = <Self as ::perceptra::__private::Network>::LAYERS;
}
::perceptra::__private::if_alloc! {
    impl Mnist { #[doc =
    "A new `Mnist` on the heap, initialised like PyTorch's default for each layer (for `Dense`: weight and bias uniform in ±1/√in)."]
    pub fn new < __R : ::perceptra::__private::Rng + ? ::core::marker::Sized > (rng : &
    mut __R) -> Self { Self::from_params(::perceptra::__private::boxed_params(| __params
    | { < Self as ::perceptra::__private::Network > ::init_params(__params, rng) })) } }
}
impl<__S> Mnist<__S> {
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
impl<__S: ::perceptra::__private::Borrow<[f32; 101770]>> Mnist<__S> {
    ///Runs one sample (f32, shape `[784]`) through the network in inference mode.
    #[inline]
    pub fn forward(
        &self,
        x: &::perceptra::__private::SVector<f32, 784>,
    ) -> ::perceptra::__private::SVector<f32, 10> {
        <Self as ::perceptra::__private::Network>::forward(self, x)
    }
}
const _: () = {
    use ::perceptra::__private::*;
    ::core::assert!(
        < Dense as Layer < f32, 784, 128 >> ::PARAMS == 100480,
        "perceptra: the runtime disagrees on the parameters of `Dense(784 => 128)`"
    );
    ::core::assert!(
        < Relu as Layer < f32, 128, 128 >> ::PARAMS == 0,
        "perceptra: the runtime disagrees on the parameters of `ReLU`"
    );
    ::core::assert!(
        < Dense as Layer < f32, 128, 10 >> ::PARAMS == 1290,
        "perceptra: the runtime disagrees on the parameters of `Dense(128 => 10)`"
    );
};
impl<__S: ::perceptra::__private::Borrow<[f32; 101770]>> ::perceptra::__private::Network
for Mnist<__S> {
    type Scalar = f32;
    type Input = ::perceptra::__private::SVector<f32, 784>;
    type Output = ::perceptra::__private::SVector<f32, 10>;
    const NAME: &'static str = "Mnist";
    const INPUT: usize = 784;
    const INPUT_SHAPE: &'static [usize] = &[784];
    const OUTPUT: usize = 10;
    const PARAMS: usize = 101770;
    const ACTIVATIONS: usize = 266;
    const WIDEST: usize = 128;
    const SCRATCH: usize = {
        use ::perceptra::__private::*;
        let mut __max = 0;
        if <Dense as Layer<f32, 784, 128>>::SCRATCH > __max {
            __max = <Dense as Layer<f32, 784, 128>>::SCRATCH;
        }
        if <Relu as Layer<f32, 128, 128>>::SCRATCH > __max {
            __max = <Relu as Layer<f32, 128, 128>>::SCRATCH;
        }
        if <Dense as Layer<f32, 128, 10>>::SCRATCH > __max {
            __max = <Dense as Layer<f32, 128, 10>>::SCRATCH;
        }
        __max
    };
    const PEAK_ACTIVATIONS: usize = 912;
    const LAYERS: &'static [::perceptra::__private::LayerInfo] = &[
        ::perceptra::__private::LayerInfo {
            index: 0,
            kind: "Dense",
            label: "Dense(784 => 128)",
            output: &[128],
            params: 100480,
            tensors: &[
                ::perceptra::__private::TensorInfo {
                    name: "0.weight",
                    shape: &[128, 784],
                    offset: 0,
                    len: 100352,
                },
                ::perceptra::__private::TensorInfo {
                    name: "0.bias",
                    shape: &[128],
                    offset: 100352,
                    len: 128,
                },
            ],
        },
        ::perceptra::__private::LayerInfo {
            index: 1,
            kind: "ReLU",
            label: "ReLU",
            output: &[128],
            params: 0,
            tensors: &[],
        },
        ::perceptra::__private::LayerInfo {
            index: 2,
            kind: "Dense",
            label: "Dense(128 => 10)",
            output: &[10],
            params: 1290,
            tensors: &[
                ::perceptra::__private::TensorInfo {
                    name: "2.weight",
                    shape: &[10, 128],
                    offset: 100480,
                    len: 1280,
                },
                ::perceptra::__private::TensorInfo {
                    name: "2.bias",
                    shape: &[10],
                    offset: 101760,
                    len: 10,
                },
            ],
        },
    ];
    #[inline]
    fn params(&self) -> &[f32] {
        ::perceptra::__private::Borrow::<[f32; 101770]>::borrow(&self.params)
    }
    fn init_params<__R: ::perceptra::__private::Rng + ?::core::marker::Sized>(
        __params: &mut [f32],
        __rng: &mut __R,
    ) {
        use ::perceptra::__private::*;
        Layer::<f32, 784, 128>::init(&Dense, &mut __params[0..100480], __rng);
        Layer::<f32, 128, 10>::init(&Dense, &mut __params[100480..101770], __rng);
    }
    #[inline]
    fn forward(
        &self,
        __x0: &::perceptra::__private::SVector<f32, 784>,
    ) -> ::perceptra::__private::SVector<f32, 10> {
        use ::perceptra::__private::*;
        let __p = Network::params(self);
        let __x1 = Layer::<f32, 784, 128>::forward(&Dense, &__p[0..100480], __x0);
        let __x2 = Layer::<f32, 128, 128>::forward(&Relu, &[], &__x1);
        let __x3 = Layer::<f32, 128, 10>::forward(&Dense, &__p[100480..101770], &__x2);
        __x3
    }
    fn forward_slices(
        &self,
        __x: &[f32],
        __acts: &mut [f32],
        __mode: ::perceptra::__private::Mode,
    ) {
        use ::perceptra::__private::*;
        let __p = Network::params(self);
        let __n = __x.len() / 784;
        let mut __acts = __acts;
        let __a0 = take_mut(&mut __acts, 128 * __n);
        let __a1 = take_mut(&mut __acts, 128 * __n);
        let __a2 = take_mut(&mut __acts, 10 * __n);
        let __scratch = __acts;
        Layer::<
            f32,
            784,
            128,
        >::forward_batch(&Dense, &__p[0..100480], __x, __a0, __scratch, __mode.layer(0));
        Layer::<
            f32,
            128,
            128,
        >::forward_batch(&Relu, &[], __a0, __a1, __scratch, __mode.layer(1));
        Layer::<
            f32,
            128,
            10,
        >::forward_batch(
            &Dense,
            &__p[100480..101770],
            __a1,
            __a2,
            __scratch,
            __mode.layer(2),
        );
    }
    fn backward_slices(
        &self,
        __x: &[f32],
        __acts: &[f32],
        __scratch: &mut [f32],
        __grads: &mut [f32],
        __dx: ::core::option::Option<&mut [f32]>,
        __mode: ::perceptra::__private::Mode,
    ) {
        use ::perceptra::__private::*;
        let __p = Network::params(self);
        let __n = __x.len() / 784;
        let mut __acts = __acts;
        let __a0 = take(&mut __acts, 128 * __n);
        let __a1 = take(&mut __acts, 128 * __n);
        let __a2 = take(&mut __acts, 10 * __n);
        let (__d0, __scratch) = __scratch.split_at_mut(128 * __n);
        let (__d1, __scratch) = __scratch.split_at_mut(128 * __n);
        Layer::<
            f32,
            128,
            10,
        >::backward_batch(
            &Dense,
            &__p[100480..101770],
            Saved {
                x: __a1,
                y: __a2,
                mode: __mode.layer(2),
            },
            &__d0[..10 * __n],
            ::core::option::Option::Some(&mut __d1[..128 * __n]),
            &mut __grads[100480..101770],
            __scratch,
        );
        Layer::<
            f32,
            128,
            128,
        >::backward_batch(
            &Relu,
            &[],
            Saved {
                x: __a0,
                y: __a1,
                mode: __mode.layer(1),
            },
            &__d1[..128 * __n],
            ::core::option::Option::Some(&mut __d0[..128 * __n]),
            &mut [],
            __scratch,
        );
        Layer::<
            f32,
            784,
            128,
        >::backward_batch(
            &Dense,
            &__p[0..100480],
            Saved {
                x: __x,
                y: __a0,
                mode: __mode.layer(0),
            },
            &__d0[..128 * __n],
            __dx,
            &mut __grads[0..100480],
            __scratch,
        );
    }
}
impl<
    __S: ::perceptra::__private::BorrowMut<[f32; 101770]>,
> ::perceptra::__private::NetworkMut for Mnist<__S> {
    #[inline]
    fn params_mut(&mut self) -> &mut [f32] {
        ::perceptra::__private::BorrowMut::<[f32; 101770]>::borrow_mut(&mut self.params)
    }
}
