//! What the bot reads in XMPP stanzas: messages addressed to it, requests to answer, rooms
//! to open, stream errors.

use crate::xml::{Element, escape};

/// For a message to the bot: who gets the answer, the message type, what starts the
/// answer (`nick: ` in a room) and the command.
pub(super) fn addressed(
    message: &Element,
    nick: &str,
) -> Option<(String, &'static str, String, String)> {
    let from = message.attr("from")?;
    let body = message.child("body")?.text.trim();
    // Nothing from the server itself (no `name@`), nothing stored while the bot was away
    // or replayed by a room on joining (`<delay>`): only what people ask now.
    if body.is_empty() || !from.contains('@') || message.child("delay").is_some() {
        return None;
    }
    match message.attr("type").unwrap_or("normal") {
        "chat" | "normal" => Some((from.to_owned(), "chat", String::new(), body.to_owned())),
        "groupchat" => {
            // The bot's own messages are not for it.
            let (room, sender) = from.split_once('/')?;
            if sender == nick {
                return None;
            }
            let rest = body.get(nick.len()..)?;
            if !body.get(..nick.len())?.eq_ignore_ascii_case(nick)
                || !rest.starts_with([':', ',', ' '])
            {
                return None;
            }
            let command = rest.trim_start_matches([':', ',']).trim();
            Some((
                room.to_owned(),
                "groupchat",
                format!("{sender}: "),
                command.to_owned(),
            ))
        }
        _ => None,
    }
}

/// The answer to a request: a pong for XEP-0199 pings, `service-unavailable` for other
/// gets and sets (RFC 6120 §8.2.3 wants every one answered), nothing for results.
pub(super) fn iq_reply(iq: &Element) -> Option<String> {
    let kind = iq.attr("type")?;
    if kind != "get" && kind != "set" {
        return None;
    }
    let id = escape(iq.attr("id").unwrap_or_default());
    let to = iq
        .attr("from")
        .map(|from| format!(" to='{}'", escape(from)))
        .unwrap_or_default();
    if kind == "get" && iq.child("ping").is_some() {
        return Some(format!("<iq type='result' id='{id}'{to}/>"));
    }
    Some(format!(
        "<iq type='error' id='{id}'{to}><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ))
}

/// A room the bot's join just created is locked until configured (XEP-0045 §10.1.2): the
/// request that takes the default configuration, so others can join.
pub(super) fn instant_room(presence: &Element) -> Option<String> {
    let created = presence
        .children
        .iter()
        .filter(|c| c.local() == "x")
        .flat_map(|x| &x.children)
        .any(|status| status.local() == "status" && status.attr("code") == Some("201"));
    if !created {
        return None;
    }
    let room = presence.attr("from")?.split('/').next()?;
    Some(format!(
        "<iq type='set' id='unlock' to='{}'><query xmlns='http://jabber.org/protocol/muc#owner'>\
         <x xmlns='jabber:x:data' type='submit'/></query></iq>",
        escape(room)
    ))
}

/// A stream error's condition and text.
pub(super) fn stream_error(error: &Element) -> String {
    let condition = error
        .children
        .iter()
        .find(|c| c.local() != "text")
        .map_or("unknown", |c| c.local());
    match error.child("text") {
        Some(text) => format!("stream error {condition}: {}", text.text.trim()),
        None => format!("stream error {condition}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(from: &str, kind: &str, body: &str) -> Element {
        Element {
            name: "message".into(),
            attrs: vec![("from".into(), from.into()), ("type".into(), kind.into())],
            children: vec![Element {
                name: "body".into(),
                text: body.into(),
                ..Element::default()
            }],
            text: String::new(),
        }
    }

    #[test]
    fn direct_messages_and_mentions_in_rooms_are_for_the_bot() {
        assert_eq!(
            addressed(
                &message("alice@example.com/phone", "chat", " ping "),
                "micro"
            ),
            Some((
                "alice@example.com/phone".into(),
                "chat",
                String::new(),
                "ping".into()
            ))
        );
        assert_eq!(
            addressed(
                &message(
                    "ops@conference.example.com/alice",
                    "groupchat",
                    "micro: list services"
                ),
                "micro"
            ),
            Some((
                "ops@conference.example.com".into(),
                "groupchat",
                "alice: ".into(),
                "list services".into()
            ))
        );
        for (from, kind, body) in [
            ("ops@conference.example.com/alice", "groupchat", "hello all"),
            (
                "ops@conference.example.com/micro",
                "groupchat",
                "micro: ping",
            ),
            ("alice@example.com", "headline", "ping"),
            ("alice@example.com", "chat", "  "),
        ] {
            assert_eq!(
                addressed(&message(from, kind, body), "micro"),
                None,
                "{body}"
            );
        }
        let mut stored = message("alice@example.com/phone", "chat", "call x X.Y {}");
        stored.children.push(Element {
            name: "delay".into(),
            ..Element::default()
        });
        assert_eq!(addressed(&stored, "micro"), None, "stored while away");
        for server in ["example.com", "conference.example.com"] {
            assert_eq!(
                addressed(&message(server, "normal", "ping"), "micro"),
                None,
                "{server}"
            );
        }
    }

    #[test]
    fn a_room_the_bot_created_is_opened() {
        let status = |code: &str| Element {
            name: "status".into(),
            attrs: vec![("code".into(), code.into())],
            ..Element::default()
        };
        let mut presence = Element {
            name: "presence".into(),
            attrs: vec![("from".into(), "ops@conference.example.com/micro".into())],
            children: vec![Element {
                name: "x".into(),
                children: vec![status("110"), status("201")],
                ..Element::default()
            }],
            text: String::new(),
        };
        let unlock = instant_room(&presence).unwrap_or_default();
        assert!(
            unlock.contains("to='ops@conference.example.com'") && unlock.contains("muc#owner"),
            "{unlock}"
        );
        presence.children[0].children.pop();
        assert_eq!(instant_room(&presence), None);
    }

    #[test]
    fn pings_are_answered_and_other_requests_refused() {
        let ping = Element {
            name: "iq".into(),
            attrs: vec![
                ("type".into(), "get".into()),
                ("id".into(), "p1".into()),
                ("from".into(), "example.com".into()),
            ],
            children: vec![Element {
                name: "ping".into(),
                ..Element::default()
            }],
            text: String::new(),
        };
        assert_eq!(
            iq_reply(&ping).as_deref(),
            Some("<iq type='result' id='p1' to='example.com'/>")
        );
        let mut version = ping.clone();
        version.children[0].name = "query".into();
        assert!(iq_reply(&version).is_some_and(|r| r.contains("service-unavailable")));
        let mut result = ping;
        result.attrs[0].1 = "result".into();
        assert_eq!(iq_reply(&result), None);
    }
}
