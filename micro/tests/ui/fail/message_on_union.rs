#[micro::message]
pub union Bits {
    pub a: u32,
    pub b: f32,
}

#[micro::message(krate = "x")]
pub struct Opt {
    pub a: u32,
}

fn main() {}
