#[micro::service(version = "2")]
pub trait Svc {
    async fn call(&self, ctx: micro::Context, req: String) -> micro::Result<String>;
}

fn main() {}
