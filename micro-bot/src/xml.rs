//! Just enough XML for an XMPP client: an endless `<stream:stream>` read one stanza (a
//! child of the stream element) at a time into a small element tree, with a size bound.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use tokio::io::{AsyncRead, AsyncReadExt, BufReader, Take};

/// The largest stanza read (bytes); a bigger one ends the connection.
pub(crate) const MAX_STANZA: u64 = 1 << 20;

/// An element: its qualified name, attributes, children and the text directly in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Element>,
    pub(crate) text: String,
}

impl Element {
    /// The name without its prefix (`stream:features` → `features`).
    pub(crate) fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or_default()
    }

    /// The value of attribute `name`.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with local name `local`.
    pub(crate) fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local() == local)
    }
}

/// What ends reading.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the stream (`</stream:stream>` or the connection).
    Closed,
    /// Bad XML, an oversized stanza or an I/O error.
    Broken(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("the server closed the stream"),
            ReadError::Broken(why) => f.write_str(why),
        }
    }
}

/// The reading side of an XMPP stream.
pub(crate) struct XmlReader<R> {
    // The byte budget sits under the buffer: no event, however long, reads past it.
    reader: quick_xml::Reader<BufReader<Take<R>>>,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> XmlReader<R> {
    pub(crate) fn new(read: R) -> XmlReader<R> {
        XmlReader::wrap(BufReader::new(read.take(MAX_STANZA)))
    }

    fn wrap(read: BufReader<Take<R>>) -> XmlReader<R> {
        let mut reader = quick_xml::Reader::from_reader(read);
        reader.config_mut().trim_text(false);
        XmlReader {
            reader,
            buf: Vec::new(),
        }
    }

    /// The underlying reader, for a TLS upgrade (nothing is buffered after `<proceed/>`).
    pub(crate) fn into_inner(self) -> R {
        self.reader.into_inner().into_inner().into_inner()
    }

    /// A new budget for the next stanza.
    fn budget(&mut self) {
        self.reader.get_mut().get_mut().set_limit(MAX_STANZA);
    }

    /// The end of the input: the peer closed, or a stanza spent its budget.
    fn ended(&mut self) -> ReadError {
        if self.reader.get_mut().get_mut().limit() == 0 {
            ReadError::Broken(format!(
                "a stanza from the server is over {MAX_STANZA} bytes"
            ))
        } else {
            ReadError::Closed
        }
    }

    /// Start over after a stream restart (RFC 6120 §4.3.3): the server's new stream header
    /// comes next.
    pub(crate) fn restart(self) -> XmlReader<R> {
        XmlReader::wrap(self.reader.into_inner())
    }

    /// The next XML event.
    async fn event(&mut self) -> Result<Event<'_>, ReadError> {
        self.buf.clear();
        self.reader
            .read_event_into_async(&mut self.buf)
            .await
            .map_err(|e| ReadError::Broken(format!("bad XML from the server: {e}")))
    }

    /// The server's `<stream:stream>` header.
    pub(crate) async fn header(&mut self) -> Result<Element, ReadError> {
        self.budget();
        loop {
            let event = self.event().await?;
            match event {
                Event::Start(start) if start.local_name().as_ref() == "stream" => {
                    return element(&start);
                }
                Event::Decl(_) | Event::Comment(_) | Event::Text(_) | Event::PI(_) => {}
                Event::Eof => return Err(self.ended()),
                other => {
                    return Err(ReadError::Broken(format!(
                        "the server sent {other:?} before its stream header"
                    )));
                }
            }
        }
    }

    /// The next stanza (a child of the stream element).
    pub(crate) async fn stanza(&mut self) -> Result<Element, ReadError> {
        let mut open: Vec<Element> = Vec::new();
        self.budget();
        loop {
            let event = self.event().await?;
            match event {
                Event::Start(start) => open.push(element(&start)?),
                Event::Empty(empty) => {
                    let done = element(&empty)?;
                    match open.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::End(_) => match open.pop() {
                    Some(done) => match open.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    },
                    // The stream element itself ends.
                    None => return Err(ReadError::Closed),
                },
                Event::Text(text) => {
                    if let Some(current) = open.last_mut() {
                        current
                            .text
                            .push_str(&text.xml_content(XmlVersion::Implicit1_0));
                    }
                }
                Event::CData(data) => {
                    if let Some(current) = open.last_mut() {
                        current
                            .text
                            .push_str(&data.xml_content(XmlVersion::Implicit1_0));
                    }
                }
                Event::GeneralRef(reference) => {
                    if let Some(current) = open.last_mut() {
                        current.text.push_str(&resolve(&reference)?);
                    }
                }
                Event::Eof => return Err(self.ended()),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }
}

/// The text of an entity reference: the five predefined ones and character references.
fn resolve(reference: &str) -> Result<String, ReadError> {
    let c = match reference {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        other => {
            let code = if let Some(hex) = other.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()
            } else if let Some(dec) = other.strip_prefix('#') {
                dec.parse().ok()
            } else {
                None
            };
            code.and_then(char::from_u32)
                .filter(|c| *c != '\0')
                .ok_or_else(|| ReadError::Broken(format!("unknown XML entity &{other};")))?
        }
    };
    Ok(c.to_string())
}

fn element(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, ReadError> {
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| ReadError::Broken(format!("bad XML attribute: {e}")))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| ReadError::Broken(format!("bad XML attribute: {e}")))?;
        attrs.push((attr.key.as_ref().to_owned(), value.into_owned()));
    }
    Ok(Element {
        name: start.name().as_ref().to_owned(),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

/// `text` escaped for XML, with the characters XML 1.0 forbids dropped.
pub(crate) fn escape(text: &str) -> String {
    let allowed: String = text
        .chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect();
    quick_xml::escape::escape(allowed.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn stanzas(xml: &str) -> (Element, Vec<Element>, ReadError) {
        let mut reader = XmlReader::new(xml.as_bytes());
        let header = reader.header().await.unwrap_or_else(|e| panic!("{e}"));
        let mut got = Vec::new();
        loop {
            match reader.stanza().await {
                Ok(stanza) => got.push(stanza),
                Err(end) => return (header, got, end),
            }
        }
    }

    #[tokio::test]
    async fn a_stream_reads_stanza_by_stanza() {
        let (header, got, end) = stanzas(
            "<?xml version='1.0'?><stream:stream from='localhost' id='x1' xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>\n\
             <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>\n\
             <message from='a@h/r' type='chat'><body>call greeter Greeter.Hello {&quot;name&quot;:&#x22;Jo &amp; Al&#34;}</body></message>\
             </stream:stream>",
        )
        .await;
        assert_eq!(header.attr("id"), Some("x1"));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].local(), "features");
        assert!(
            got[0]
                .child("starttls")
                .and_then(|s| s.child("required"))
                .is_some()
        );
        assert_eq!(got[1].attr("from"), Some("a@h/r"));
        assert_eq!(
            got[1].child("body").map(|b| b.text.as_str()),
            Some(r#"call greeter Greeter.Hello {"name":"Jo & Al"}"#)
        );
        assert!(matches!(end, ReadError::Closed));
    }

    #[tokio::test]
    async fn bad_xml_and_unknown_entities_are_errors() {
        let open = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
        let (_, _, end) = stanzas(&format!("{open}<message><body>&bogus;</body></message>")).await;
        assert!(
            matches!(end, ReadError::Broken(ref why) if why.contains("&bogus;")),
            "{end}"
        );
        let (_, _, end) = stanzas(&format!("{open}<message></iq>")).await;
        assert!(matches!(end, ReadError::Broken(_)), "{end}");
    }

    #[tokio::test]
    async fn an_endless_stanza_is_cut_off() {
        let open = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><message><body>";
        let text = format!("{open}{}", "x".repeat(MAX_STANZA as usize + 65_536));
        let (_, _, end) = stanzas(&text).await;
        assert!(
            matches!(end, ReadError::Broken(ref why) if why.contains("over")),
            "{end}"
        );
    }

    #[test]
    fn escaping_drops_what_xml_forbids() {
        assert_eq!(escape("a<b & \u{1}c\n"), "a&lt;b &amp; c\n");
    }
}
