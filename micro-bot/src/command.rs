//! A chat message as a command: its words, its verb, and the raw text after some words (a
//! JSON argument keeps its spaces).

/// The built-in commands: usage and what each does, in the order `help` lists them.
pub const BUILTIN: &[(&str, &str)] = &[
    ("help", "what I can do"),
    ("echo TEXT", "say TEXT back"),
    ("time", "the time here (UTC)"),
    ("hello", "say hi"),
    ("ping", "pong"),
    ("list services", "the services in the registry"),
    (
        "get service NAME",
        "a service's versions, nodes and endpoints",
    ),
    ("health SERVICE", "each node's health check"),
    (
        "call SERVICE ENDPOINT JSON",
        "call an endpoint with a JSON request",
    ),
    (
        "register service JSON",
        "add a service record (as micro register service)",
    ),
    (
        "deregister service JSON",
        "remove a service record (as micro deregister service)",
    ),
    ("the three laws", "how I behave"),
];

/// The commands that change services or reach into them: off unless enabled.
pub const GUARDED: &[&str] = &["call", "register", "deregister"];

/// The words of a message addressed to the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words {
    text: String,
    words: Vec<String>,
}

impl Words {
    /// The message's words; `None` when it has none.
    pub fn parse(text: &str) -> Option<Words> {
        let text = text.trim();
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            return None;
        }
        Some(Words {
            text: text.to_owned(),
            words,
        })
    }

    /// What the allow-lists call the command: its first word in lower case (`list` for
    /// `list services`), `call` for go-micro's alias `query`, `laws` for the three laws.
    pub fn verb(&self) -> String {
        let first = self.words[0].to_lowercase();
        match first.as_str() {
            "query" => "call".to_owned(),
            "the" if self.is(&["the", "three", "laws"]) => "laws".to_owned(),
            _ => first,
        }
    }

    /// The words, the verb first.
    pub fn all(&self) -> &[String] {
        &self.words
    }

    /// Word `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }

    /// Whether the message is exactly `words` (case aside).
    pub fn is(&self, words: &[&str]) -> bool {
        self.words.len() == words.len() && self.starts(words)
    }

    /// Whether the message starts with `words` (case aside).
    pub fn starts(&self, words: &[&str]) -> bool {
        self.words.len() >= words.len()
            && self
                .words
                .iter()
                .zip(words)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// The text after the first `n` words as it was written (spaces inside kept), or
    /// `None` when nothing follows them.
    pub fn rest(&self, n: usize) -> Option<&str> {
        let mut rest = self.text.as_str();
        for _ in 0..n {
            rest = rest.trim_start();
            let end = rest.find(char::is_whitespace)?;
            rest = &rest[end..];
        }
        let rest = rest.trim();
        (!rest.is_empty()).then_some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Words {
        Words::parse(text).unwrap_or_else(|| panic!("{text:?} has words"))
    }

    #[test]
    fn the_verb_is_the_first_word_with_aliases() {
        assert_eq!(words("List services").verb(), "list");
        assert_eq!(words("query greeter Greeter.Hello {}").verb(), "call");
        assert_eq!(words("the three laws").verb(), "laws");
        assert_eq!(words("the end").verb(), "the");
        assert!(Words::parse("   ").is_none());
    }

    #[test]
    fn the_rest_keeps_a_json_argument_whole() {
        let w = words(r#"call  greeter Greeter.Hello {"name": "John Smith"}"#);
        assert_eq!(w.rest(3), Some(r#"{"name": "John Smith"}"#));
        assert_eq!(w.get(1), Some("greeter"));
        assert_eq!(words("call greeter Greeter.Hello").rest(3), None);
        assert_eq!(words("echo").rest(1), None);
        assert_eq!(words("echo  two  spaces ").rest(1), Some("two  spaces"));
    }

    #[test]
    fn matching_ignores_case_only() {
        assert!(words("LIST Services").is(&["list", "services"]));
        assert!(!words("list services now").is(&["list", "services"]));
        assert!(words("get service greeter").starts(&["get", "service"]));
    }
}
