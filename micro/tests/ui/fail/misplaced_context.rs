#[micro::service]
pub trait Svc {
    async fn call(&self, req: String, ctx: micro::Context) -> micro::Result<String>;
}

fn main() {}
