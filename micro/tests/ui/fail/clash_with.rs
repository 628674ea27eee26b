#[micro::service]
pub trait Svc {
    async fn get(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
    async fn get_with(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
