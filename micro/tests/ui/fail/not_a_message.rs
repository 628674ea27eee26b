pub struct NotSerde;

#[micro::service]
pub trait Svc {
    async fn call(&self, ctx: micro::Context, req: NotSerde) -> micro::Result<String>;
}

fn main() {}
