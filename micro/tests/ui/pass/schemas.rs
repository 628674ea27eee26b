#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Req {
    pub name: String,
    pub tags: Vec<String>,
    pub inner: Inner,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Inner {
    pub count: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct NoSchema {
    pub x: i32,
}

#[micro::service]
pub(crate) trait Described {
    async fn call(&self, ctx: micro::Context, req: Req) -> micro::Result<NoSchema>;
}

struct D;

impl Described for D {
    async fn call(&self, _ctx: micro::Context, req: Req) -> micro::Result<NoSchema> {
        Ok(NoSchema { x: req.inner.count as i32 })
    }
}

fn main() {
    let router = micro::server::IntoRouter::into_router(DescribedServer::new(D));
    let ep = router.routes()[0].endpoint();
    let req = ep.request.expect("Req derives JsonSchema");
    let fields: Vec<(&str, &str)> = req.values.iter().map(|v| (v.name.as_str(), v.kind.as_str())).collect();
    assert_eq!(fields, [("name", "string"), ("tags", "repeated string"), ("inner", "Inner")]);
    assert_eq!(req.values[2].values[0].name, "count");
    assert!(ep.response.is_none(), "NoSchema has no schema");
}
