#[micro::service]
pub trait Svc<'a> {
    async fn call(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
