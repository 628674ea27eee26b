#[micro::service]
pub trait Svc {
    async fn call(&mut self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
