//! The macros' expansions name everything by absolute path: the service compiles with no
//! prelude and with the `micro` crate renamed (here `renamed`, given with
//! `crate = "::renamed"`), and the crate has no serde or schemars dependency:
//! `#[micro::message(crate = "::renamed")]` derives through the renamed crate. (schemars'
//! own derive needs the prelude, so the message sits outside the prelude-free module.)

#![allow(missing_docs)]

pub use hygienic::*;

#[::renamed::message(crate = "::renamed")]
#[derive(::std::fmt::Debug, ::std::cmp::PartialEq, ::std::clone::Clone)]
pub struct Msg {
    pub text: ::std::string::String,
}

#[no_implicit_prelude]
mod hygienic {
    use super::Msg;

    /// Echoes, in every streaming kind.
    #[::renamed::service(crate = "::renamed")]
    pub trait Echo {
        /// One message back.
        async fn echo(&self, ctx: ::renamed::Context, req: Msg) -> ::renamed::Result<Msg>;

        async fn many(
            &self,
            ctx: ::renamed::Context,
            req: Msg,
            out: ::renamed::stream::StreamSender<Msg>,
        ) -> ::renamed::Result<()>;

        async fn gather(
            &self,
            ctx: ::renamed::Context,
            msgs: ::renamed::stream::StreamReceiver<Msg>,
        ) -> ::renamed::Result<Msg>;

        async fn chat(
            &self,
            ctx: ::renamed::Context,
            msgs: ::renamed::stream::StreamReceiver<Msg>,
            out: ::renamed::stream::StreamSender<Msg>,
        ) -> ::renamed::Result<()>;
    }

    /// The implementation.
    #[derive(::std::fmt::Debug)]
    pub struct Impl;

    impl Echo for Impl {
        async fn echo(&self, _ctx: ::renamed::Context, req: Msg) -> ::renamed::Result<Msg> {
            ::std::result::Result::Ok(req)
        }

        async fn many(
            &self,
            _ctx: ::renamed::Context,
            req: Msg,
            out: ::renamed::stream::StreamSender<Msg>,
        ) -> ::renamed::Result<()> {
            out.send(&req).await?;
            out.send(&req).await
        }

        async fn gather(
            &self,
            _ctx: ::renamed::Context,
            mut msgs: ::renamed::stream::StreamReceiver<Msg>,
        ) -> ::renamed::Result<Msg> {
            let mut text = ::std::string::String::new();
            while let ::std::option::Option::Some(m) = msgs.recv().await? {
                text.push_str(&m.text);
            }
            ::std::result::Result::Ok(Msg { text })
        }

        async fn chat(
            &self,
            _ctx: ::renamed::Context,
            mut msgs: ::renamed::stream::StreamReceiver<Msg>,
            out: ::renamed::stream::StreamSender<Msg>,
        ) -> ::renamed::Result<()> {
            while let ::std::option::Option::Some(m) = msgs.recv().await? {
                out.send(&m).await?;
            }
            ::std::result::Result::Ok(())
        }
    }
}
