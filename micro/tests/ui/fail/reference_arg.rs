#[micro::service]
pub trait Svc {
    async fn call(&self, ctx: micro::Context, req: &str) -> micro::Result<String>;
}

fn main() {}
