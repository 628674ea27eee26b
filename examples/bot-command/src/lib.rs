//! A chat command served by a service: `micro.bot.greet` serves `Command.Help` and
//! `Command.Exec` (the messages of `proto/micro/bot/bot.proto`, generated in
//! [`micro_bot::proto`]), so `micro bot` answers `greet John Jane` with the greeter's
//! greetings, found through the registry as any other service.
//!
//! A command is an ordinary service: it can call other services (here the greeter), keep
//! state, and run on any machine the bot's registry reaches.

use example_greeter::{GreeterClient, HelloRequest};
use micro::{Context, Result};
use micro_bot::proto::command_server::Command;
use micro_bot::proto::{ExecRequest, ExecResponse, HelpRequest, HelpResponse};

/// The registry name: the bot's namespace (`micro.bot`), then the command's name.
pub const SERVICE: &str = "micro.bot.greet";

/// The most names one message may greet.
pub const MAX_NAMES: usize = 10;

/// `greet NAME...`: one greeting per name, from the greeter.
#[derive(Debug)]
pub struct Greet {
    greeter: GreeterClient,
}

impl Greet {
    /// The command, calling the greeter with `greeter`.
    pub fn new(greeter: GreeterClient) -> Greet {
        Greet { greeter }
    }
}

impl Command for Greet {
    async fn help(&self, _ctx: Context, _request: HelpRequest) -> Result<HelpResponse> {
        Ok(HelpResponse {
            usage: "greet NAME...".to_owned(),
            description: "greetings from the greeter service".to_owned(),
        })
    }

    async fn exec(&self, _ctx: Context, request: ExecRequest) -> Result<ExecResponse> {
        // args[0] is the command's own name.
        let names = request.args.get(1..).unwrap_or_default();
        if names.is_empty() {
            return Ok(failed("say who to greet: greet NAME..."));
        }
        if names.len() > MAX_NAMES {
            return Ok(failed(&format!("at most {MAX_NAMES} names at once")));
        }
        let mut lines = Vec::new();
        for name in names {
            let request = HelloRequest { name: name.clone() };
            match self.greeter.hello(request).await {
                Ok(rsp) => lines.push(rsp.msg),
                // The greeter's error goes back to chat as the command's error.
                Err(e) => return Ok(failed(&format!("the greeter: {}", e.detail()))),
            }
        }
        Ok(ExecResponse {
            result: lines.join("\n").into_bytes(),
            error: String::new(),
        })
    }
}

fn failed(error: &str) -> ExecResponse {
    ExecResponse {
        result: Vec::new(),
        error: error.to_owned(),
    }
}
