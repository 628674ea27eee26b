//! The built-in commands: go-micro's bot verbs over micro's client and registry.

use std::fmt::Write as _;
use std::time::SystemTime;

use micro::Context;
use micro::client::CallOptions;
use micro::codec::Format;
use micro::health::{HealthCheckRequest, HealthCheckResponse, PACKAGE, ServingStatus};
use micro::registry::{RegisterOptions, Service};

use crate::command::{BUILTIN, Words};
use crate::{Bot, services};

const LAWS: &str = "1. A bot may not injure a service or, through inaction, allow a service to come to harm.\n\
2. A bot must obey the orders given it by its operators, except where such orders would conflict with the First Law.\n\
3. A bot must protect its own existence as long as such protection does not conflict with the First or Second Law.";

/// The answer of a built-in command, or `None` when `words` names none.
pub(crate) async fn run(bot: &Bot, words: &Words) -> Option<String> {
    let answer = match words.verb().as_str() {
        "help" if words.all().len() == 1 => help(bot).await,
        "echo" => words.rest(1).unwrap_or_default().to_owned(),
        "time" if words.all().len() == 1 => humantime::format_rfc3339_seconds(SystemTime::now())
            .to_string()
            .replace('T', " ")
            .replace('Z', " UTC"),
        "hello" if words.all().len() == 1 => "hi".to_owned(),
        "ping" if words.all().len() == 1 => "pong".to_owned(),
        "laws" => LAWS.to_owned(),
        "list" if words.is(&["list", "services"]) => list(bot).await,
        "get" if words.starts(&["get", "service"]) => match words.get(2) {
            Some(name) if words.all().len() == 3 => get(bot, name).await,
            _ => usage("get service NAME"),
        },
        "health" => match words.get(1) {
            Some(name) if words.all().len() == 2 => health(bot, name).await,
            _ => usage("health SERVICE"),
        },
        "call" => match (words.get(1), words.get(2)) {
            (Some(service), Some(endpoint)) => {
                call(bot, service, endpoint, words.rest(3).unwrap_or("{}")).await
            }
            _ => usage("call SERVICE ENDPOINT JSON"),
        },
        "register" | "deregister" if words.starts(&[&words.verb(), "service"]) => {
            let register = words.verb() == "register";
            match words.rest(2) {
                Some(json) => change(bot, json, register).await,
                None => usage(if register {
                    "register service JSON"
                } else {
                    "deregister service JSON"
                }),
            }
        }
        "list" | "get" | "register" | "deregister" => usage(
            BUILTIN
                .iter()
                .map(|(u, _)| *u)
                .find(|u| u.starts_with(words.verb().as_str()))
                .unwrap_or_default(),
        ),
        _ => return None,
    };
    Some(answer)
}

fn usage(usage: &str) -> String {
    format!("usage: {usage}")
}

async fn help(bot: &Bot) -> String {
    let mut text = String::from("I answer:\n");
    for (usage, what) in BUILTIN {
        let verb = usage.split(' ').next().unwrap_or_default();
        let off = crate::command::GUARDED.contains(&verb) && !bot.options.enabled.contains(verb);
        let _ = writeln!(
            text,
            "  {usage} — {what}{}",
            if off { " (off)" } else { "" }
        );
    }
    let commands = services::help(bot).await;
    if !commands.is_empty() {
        text.push_str("and the commands services serve:\n");
        for (usage, what) in commands {
            let _ = writeln!(text, "  {usage} — {what}");
        }
    }
    text
}

async fn list(bot: &Bot) -> String {
    match bot.client.selector().registry().list_services().await {
        Ok(services) => {
            let mut names: Vec<String> = services.into_iter().map(|s| s.name).collect();
            names.sort();
            names.dedup();
            if names.is_empty() {
                "no services are registered".to_owned()
            } else {
                names.join("\n")
            }
        }
        Err(e) => format!("the registry does not answer: {}", e.detail()),
    }
}

async fn records(bot: &Bot, name: &str) -> Result<Vec<Service>, String> {
    match bot.client.selector().registry().get_service(name).await {
        Ok(records) if records.iter().any(|s| !s.nodes.is_empty()) => Ok(records),
        Ok(_) => Err(format!("service {name} is not registered")),
        Err(e) if e.code() == 404 => Err(format!("service {name} is not registered")),
        Err(e) => Err(format!("the registry does not answer: {}", e.detail())),
    }
}

async fn get(bot: &Bot, name: &str) -> String {
    let records = match records(bot, name).await {
        Ok(records) => records,
        Err(why) => return why,
    };
    let mut text = String::new();
    for svc in &records {
        let _ = writeln!(
            text,
            "{} {}: {} node{}",
            svc.name,
            svc.version,
            svc.nodes.len(),
            if svc.nodes.len() == 1 { "" } else { "s" }
        );
        for node in &svc.nodes {
            let _ = writeln!(text, "  {} {}", node.id, node.address);
        }
        let endpoints: Vec<&str> = svc
            .endpoints
            .iter()
            .filter(|e| !e.is_subscriber())
            .map(|e| e.name.as_str())
            .collect();
        if !endpoints.is_empty() {
            let _ = writeln!(text, "  endpoints: {}", endpoints.join(", "));
        }
    }
    text
}

async fn health(bot: &Bot, name: &str) -> String {
    let records = match records(bot, name).await {
        Ok(records) => records,
        Err(why) => return why,
    };
    let mut text = String::new();
    for svc in &records {
        for node in &svc.nodes {
            let opts = CallOptions::new()
                .address(node.address.clone())
                .package(PACKAGE)
                .timeout(bot.options.call_timeout);
            let request = HealthCheckRequest {
                service: name.to_owned(),
            };
            let status = match bot
                .client
                .call_with::<_, HealthCheckResponse>(
                    &Context::new(),
                    name,
                    "Health.Check",
                    &request,
                    &opts,
                )
                .await
            {
                Ok(rsp) if rsp.status() == ServingStatus::Serving => "SERVING".to_owned(),
                Ok(rsp) => rsp.status().as_str_name().to_owned(),
                Err(e) => format!("ERROR {}", e.detail()),
            };
            let _ = writeln!(text, "{} {} {status}", node.id, node.address);
        }
    }
    text
}

async fn call(bot: &Bot, service: &str, endpoint: &str, request: &str) -> String {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(request) {
        return format!("the request is not JSON: {e}");
    }
    if let Ok(records) = bot.client.selector().registry().get_service(service).await
        && let Some(kind) = records
            .iter()
            .filter_map(|s| s.endpoint(endpoint))
            .find_map(|e| e.stream())
    {
        return format!("{endpoint} of {service} is a {kind} stream: I call unary endpoints");
    }
    let opts = CallOptions::new().timeout(bot.options.call_timeout);
    match bot
        .client
        .call_raw(
            &Context::new(),
            service,
            endpoint,
            Format::Json,
            request.to_owned().into(),
            &opts,
        )
        .await
    {
        Ok(rsp) => String::from_utf8_lossy(&rsp.message).into_owned(),
        Err(e) => format!("error from {service}: {} ({})", e.detail(), e.status()),
    }
}

async fn change(bot: &Bot, json: &str, register: bool) -> String {
    let services = match Service::parse_records(json) {
        Ok(services) => services,
        Err(e) => return e.detail().to_owned(),
    };
    let registry = bot.client.selector().registry();
    let mut text = String::new();
    for svc in services {
        let result = if register {
            registry.register(&svc, RegisterOptions::default()).await
        } else {
            registry.deregister(&svc).await
        };
        let nodes: Vec<&str> = svc.nodes.iter().map(|n| n.id.as_str()).collect();
        let _ = match result {
            Ok(()) => writeln!(
                text,
                "{} {} {} ({})",
                if register {
                    "registered"
                } else {
                    "deregistered"
                },
                svc.name,
                svc.version,
                nodes.join(", ")
            ),
            Err(e) => writeln!(text, "{}: {}", svc.name, e.detail()),
        };
    }
    text
}
