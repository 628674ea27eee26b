#[micro::service]
pub trait Svc {
    async fn call(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
    #[micro(name = "Call")]
    async fn call_again(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
