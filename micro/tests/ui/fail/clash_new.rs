#[micro::service]
pub trait Svc {
    async fn new(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
