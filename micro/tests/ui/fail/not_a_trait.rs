#[micro::service]
pub struct Svc;

fn main() {}
