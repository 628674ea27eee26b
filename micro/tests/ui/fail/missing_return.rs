#[micro::service]
pub trait Svc {
    async fn call(&self, ctx: micro::Context, req: String);
}

fn main() {}
