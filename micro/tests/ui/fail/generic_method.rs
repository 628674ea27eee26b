#[micro::service]
pub trait Svc {
    async fn call<T>(&self, ctx: micro::Context, req: T) -> micro::Result<String>;
}

fn main() {}
