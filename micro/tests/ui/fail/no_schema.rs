/// Serde alone: the registry would get no fields for it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Bare {
    pub x: i32,
}

#[micro::service]
pub trait Svc {
    async fn call(&self, ctx: micro::Context, req: Bare) -> micro::Result<Bare>;
}

fn main() {}
