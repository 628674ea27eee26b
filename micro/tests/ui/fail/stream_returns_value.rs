use micro::stream::StreamSender;

#[micro::service]
pub trait Svc {
    async fn call(&self, ctx: micro::Context, req: String, out: StreamSender<String>) -> micro::Result<String>;
}

fn main() {}
