#[micro::service]
pub trait Svc {
    #[micro(timeout = "soon")]
    async fn call(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
