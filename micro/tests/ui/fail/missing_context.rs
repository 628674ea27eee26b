#[micro::service]
pub trait Svc {
    async fn call(&self, req: String) -> micro::Result<String>;
}

fn main() {}
