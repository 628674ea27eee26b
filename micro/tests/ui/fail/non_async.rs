#[micro::service]
pub trait Svc {
    fn call(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
