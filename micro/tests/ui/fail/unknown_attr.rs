#[micro::service]
pub trait Svc {
    #[micro(retry = 3)]
    async fn call(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
