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

/// Through micro alone: no serde or schemars attribute.
#[micro::message]
pub struct Out {
    pub x: i32,
}

#[micro::service]
pub(crate) trait Described {
    async fn call(&self, ctx: micro::Context, req: Req) -> micro::Result<Out>;
}

struct D;

impl Described for D {
    async fn call(&self, _ctx: micro::Context, req: Req) -> micro::Result<Out> {
        Ok(Out { x: req.inner.count as i32 })
    }
}

fn main() {
    let router = micro::server::IntoRouter::into_router(DescribedServer::new(D));
    let ep = router.routes()[0].endpoint();
    let req = ep.request.expect("Req derives JsonSchema");
    let fields: Vec<(&str, &str)> = req.values.iter().map(|v| (v.name.as_str(), v.kind.as_str())).collect();
    assert_eq!(fields, [("name", "string"), ("tags", "repeated string"), ("inner", "Inner")]);
    assert_eq!(req.values[2].values[0].name, "count");
    let rsp = ep.response.expect("micro::message derives JsonSchema");
    assert_eq!(rsp.values[0].name, "x");
    assert_eq!(rsp.values[0].kind, "int32");
}
