use perceptra::prelude::*;

network! {
    /// Doc comments and attributes on the struct pass through.
    pub struct Mnist<f32> {
        input: 784,
        Dense(128), ReLU,
        Dense(128 => 10),
    }
}

#[test]
fn smoke() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let net = Mnist::new(&mut rng);
    let y = net.forward(&SVector::zeros());
    assert_eq!(y.len(), 10);
    println!("{}", net.summary());
    let mut g = net.zero_grads();
    let x = vec![SVector::<f32, 784>::repeat(0.5); 8];
    let t = vec![3usize; 8];
    let l = net.backprop(&x, &t, &CrossEntropy, &mut g);
    println!("{l}");
}
