use micro::stream::{StreamReceiver, StreamSender};

#[micro::message]
pub struct Num {
    pub value: i64,
}

/// Every streaming kind and every option.
#[micro::service(name = "Numbers", codec = "msgpack")]
pub trait Arith {
    /// Doubles.
    #[micro(idempotent, timeout = "250ms")]
    async fn double(&self, ctx: micro::Context, req: Num) -> micro::Result<Num>;

    #[micro(name = "Total")]
    async fn sum(&self, ctx: micro::Context, nums: StreamReceiver<Num>) -> micro::Result<Num>;

    async fn count(&self, ctx: micro::Context, upto: Num, out: StreamSender<Num>) -> micro::Result<()>;

    async fn echo(
        &self,
        ctx: micro::Context,
        input: StreamReceiver<Num>,
        output: StreamSender<Num>,
    ) -> micro::Result<()>;

    #[deprecated]
    async fn old(&self, ctx: micro::Context, req: ()) -> micro::Result<String>;
}

struct A;

#[allow(deprecated)]
impl Arith for A {
    async fn double(&self, _ctx: micro::Context, req: Num) -> micro::Result<Num> {
        Ok(Num { value: req.value * 2 })
    }

    async fn sum(&self, _ctx: micro::Context, mut nums: StreamReceiver<Num>) -> micro::Result<Num> {
        let mut value = 0;
        while let Some(n) = nums.recv().await? {
            value += n.value;
        }
        Ok(Num { value })
    }

    async fn count(&self, _ctx: micro::Context, upto: Num, out: StreamSender<Num>) -> micro::Result<()> {
        for value in 0..upto.value {
            out.send(&Num { value }).await?;
        }
        Ok(())
    }

    async fn echo(
        &self,
        _ctx: micro::Context,
        mut input: StreamReceiver<Num>,
        output: StreamSender<Num>,
    ) -> micro::Result<()> {
        while let Some(n) = input.recv().await? {
            output.send(&n).await?;
        }
        Ok(())
    }

    async fn old(&self, _ctx: micro::Context, _req: ()) -> micro::Result<String> {
        Ok("old".into())
    }
}

fn main() {
    let router = micro::server::IntoRouter::into_router(ArithServer::new(A));
    let names: Vec<&str> = router.routes().iter().map(|r| r.name()).collect();
    assert_eq!(names, ["Numbers.Double", "Numbers.Total", "Numbers.Count", "Numbers.Echo", "Numbers.Old"]);
    let double = router.routes()[0].endpoint();
    assert!(double.is_idempotent());
    assert_eq!(router.routes()[2].endpoint().metadata["stream"], "server");
    assert_eq!(router.routes()[4].endpoint().metadata["deprecated"], "true");
    fn is_arith<T: Arith>() {}
    is_arith::<ArithClient>();
}
