//! go-micro's mDNS encoding: DNS-SD records under the domain `micro.`.
//!
//! For a node `ID` of service `SVC` at `IP:PORT`:
//!
//! | Owner | Type | Data |
//! |---|---|---|
//! | `SVC.micro.` | PTR | `ID.SVC.micro.` |
//! | `ID.SVC.micro.` | SRV | port `PORT`, target `ID.SVC.micro.` |
//! | `ID.SVC.micro.` | TXT | `hex(zlib(JSON {"Service","Version","Endpoints","Metadata"}))` in strings of at most 255 characters |
//! | `ID.SVC.micro.` | A / AAAA | `IP` |
//! | `_services.micro.` | PTR | `SVC._services.micro.` (how services are listed) |
//!
//! A record with TTL 0 says the node is gone.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::{A, AAAA, PTR, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::registry::snapshot::{self, Record as Entry};
use crate::registry::{Endpoint, Node, Service};

/// go-micro's mDNS domain.
pub(crate) const DOMAIN: &str = "micro";

/// The TXT payload, field names as go-micro's `mdnsTxt` marshals them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Txt {
    #[serde(rename = "Service")]
    service: String,
    #[serde(rename = "Version", default)]
    version: String,
    #[serde(
        rename = "Endpoints",
        default,
        deserialize_with = "crate::registry::null_is_default"
    )]
    endpoints: Vec<Endpoint>,
    #[serde(
        rename = "Metadata",
        default,
        deserialize_with = "crate::registry::null_is_default"
    )]
    metadata: BTreeMap<String, String>,
}

fn name(text: &str) -> Result<Name> {
    Name::from_utf8(text).map_err(|e| {
        Error::bad_request(
            crate::registry::ID,
            format!("mdns registry: {text:?} is not a DNS name: {e}"),
        )
    })
}

/// `SVC.micro.`
pub(crate) fn service_name(service: &str) -> String {
    format!("{service}.{DOMAIN}.")
}

/// `_services.micro.`
pub(crate) fn services_name() -> String {
    format!("_services.{DOMAIN}.")
}

/// The TXT strings of `service`'s `node`.
fn encode_txt(service: &Service, node: &Node) -> Result<Vec<String>> {
    let txt = Txt {
        service: service.name.clone(),
        version: service.version.clone(),
        endpoints: service.endpoints.clone(),
        metadata: node.metadata.clone(),
    };
    let json = serde_json::to_vec(&txt)
        .map_err(|e| Error::internal(crate::registry::ID, format!("mdns TXT: {e}")))?;
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let packed = zlib
        .write_all(&json)
        .and_then(|()| zlib.finish())
        .map_err(|e| Error::internal(crate::registry::ID, format!("mdns TXT: {e}")))?;
    let hex: String = packed.iter().map(|b| format!("{b:02x}")).collect();
    Ok(hex
        .as_bytes()
        .chunks(255)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect())
}

fn decode_txt(strings: &[Box<[u8]>]) -> Option<Txt> {
    let hex: Vec<u8> = strings.iter().flat_map(|s| s.iter().copied()).collect();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let packed: Option<Vec<u8>> = hex
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect();
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(packed?.as_slice())
        .take(1 << 20)
        .read_to_end(&mut json)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// The records announcing `service`'s `node`, with `ttl` seconds (0: a goodbye).
pub(crate) fn records(service: &Service, node: &Node, ttl: u32) -> Result<Vec<Record>> {
    let address: SocketAddr = node.address.parse().map_err(|_| {
        Error::bad_request(
            crate::registry::ID,
            format!(
                "mdns registry: node {} has address {:?}, but mDNS publishes IP:PORT (set MICRO_SERVER_ADVERTISE to an IP)",
                node.id, node.address
            ),
        )
    })?;
    let owner = name(&service_name(&service.name))?;
    let instance = name(&format!("{}.{}", node.id, service_name(&service.name)))?;
    let ip = match address.ip() {
        IpAddr::V4(ip) => RData::A(A(ip)),
        IpAddr::V6(ip) => RData::AAAA(AAAA(ip)),
    };
    Ok(vec![
        Record::from_rdata(owner, ttl, RData::PTR(PTR(instance.clone()))),
        Record::from_rdata(
            instance.clone(),
            ttl,
            RData::SRV(SRV::new(0, 0, address.port(), instance.clone())),
        ),
        Record::from_rdata(
            instance.clone(),
            ttl,
            RData::TXT(TXT::new(encode_txt(service, node)?)),
        ),
        Record::from_rdata(instance, ttl, ip),
        Record::from_rdata(
            name(&services_name())?,
            ttl,
            RData::PTR(PTR(name(&format!("{}._services.{DOMAIN}.", service.name))?)),
        ),
    ])
}

/// An unsolicited response (an announcement, or a goodbye) or an answer to a query.
pub(crate) fn response(id: u16, answers: Vec<Record>) -> Message {
    let mut message = Message::new(id, MessageType::Response, OpCode::Query);
    message.metadata.authoritative = true;
    message.add_answers(answers);
    message
}

/// A query for the PTR records of `names`.
pub(crate) fn query(names: &[String]) -> Result<Message> {
    let mut message = Message::new(0, MessageType::Query, OpCode::Query);
    for text in names {
        message.add_query(Query::query(name(text)?, RecordType::PTR));
    }
    Ok(message)
}

/// A node found in a response: its entry (expiring after its TTL), or `None` for a goodbye.
#[derive(Debug)]
pub(crate) struct Seen {
    /// `SVC/ID`: the cache key.
    pub(crate) key: String,
    pub(crate) entry: Option<Entry>,
}

/// Every node a response describes (an SRV with a readable TXT and an address).
pub(crate) fn nodes_in(message: &Message) -> Vec<Seen> {
    let records: Vec<&Record> = message
        .answers
        .iter()
        .chain(message.additionals.iter())
        .collect();
    let mut txts: HashMap<String, &TXT> = HashMap::new();
    let mut ips: HashMap<String, IpAddr> = HashMap::new();
    for record in &records {
        let owner = record.name.to_utf8();
        match &record.data {
            RData::TXT(txt) => {
                txts.insert(owner, txt);
            }
            RData::A(a) => {
                ips.insert(owner, IpAddr::V4(a.0));
            }
            RData::AAAA(aaaa) => {
                ips.entry(owner).or_insert(IpAddr::V6(aaaa.0));
            }
            _ => {}
        }
    }
    let suffix = format!(".{DOMAIN}.");
    let mut seen = Vec::new();
    for record in &records {
        let RData::SRV(srv) = &record.data else {
            continue;
        };
        let instance = record.name.to_utf8();
        if !instance.ends_with(&suffix) || instance.contains("._services.") {
            continue;
        }
        let Some(txt) = txts.get(&instance).and_then(|t| decode_txt(&t.txt_data)) else {
            tracing::warn!(
                instance,
                "skipping an mDNS record whose TXT is not go-micro's encoding"
            );
            continue;
        };
        let Some(id) = instance
            .strip_suffix(&format!(".{}", service_name(&txt.service)))
            .map(str::to_owned)
        else {
            tracing::warn!(instance, service = %txt.service, "skipping an mDNS record whose name does not match its service");
            continue;
        };
        let key = format!("{}/{id}", txt.service);
        if record.ttl == 0 {
            seen.push(Seen { key, entry: None });
            continue;
        }
        let Some(ip) = ips.get(&srv.target.to_utf8()) else {
            continue;
        };
        let mut service = Service::new(txt.service, txt.version);
        service.endpoints = txt.endpoints;
        let mut node = Node::new(id, SocketAddr::new(*ip, srv.port).to_string());
        node.metadata = txt.metadata;
        service.nodes = vec![node];
        seen.push(Seen {
            key,
            entry: Some(Entry {
                service,
                expires: Some(snapshot::now_ms().saturating_add(u64::from(record.ttl) * 1000)),
            }),
        });
    }
    seen
}

/// The service names a response lists under `_services.micro.`.
pub(crate) fn service_names_in(message: &Message) -> Vec<String> {
    let owner = services_name();
    let suffix = format!("._services.{DOMAIN}.");
    message
        .answers
        .iter()
        .filter(|r| r.name.to_utf8() == owner && r.ttl > 0)
        .filter_map(|r| match &r.data {
            RData::PTR(ptr) => ptr.0.to_utf8().strip_suffix(&suffix).map(str::to_owned),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_a_packet() {
        let service = Service::new("greeter", "1.0.0")
            .with_endpoint(Endpoint::new("Greeter.Hello"))
            .with_node(
                Node::new("greeter-1", "198.51.100.1:9000").with_metadata("transport", "grpc"),
            );
        let node = &service.nodes[0];
        let message = response(0, records(&service, node, 30).unwrap());
        let bytes = message.to_vec().unwrap();
        let back = Message::from_vec(&bytes).unwrap();
        let seen = nodes_in(&back);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].key, "greeter/greeter-1");
        let entry = seen[0].entry.as_ref().unwrap();
        assert_eq!(entry.service, service);
        assert_eq!(service_names_in(&back), ["greeter"]);
        let bye = response(0, records(&service, node, 0).unwrap());
        let seen = nodes_in(&Message::from_vec(&bye.to_vec().unwrap()).unwrap());
        assert!(seen[0].entry.is_none());
    }

    #[test]
    fn txt_is_go_micros_hex_zlib_json_in_255_character_strings() {
        let mut service = Service::new("svc", "1");
        for i in 0..40 {
            service
                .endpoints
                .push(Endpoint::new(format!("Svc.Method{i}WithALongName")));
        }
        let node = Node::new("n", "10.0.0.1:1");
        let strings = encode_txt(&service, &node).unwrap();
        assert!(strings.len() > 1);
        assert!(
            strings
                .iter()
                .all(|s| s.len() <= 255 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        let boxed: Vec<Box<[u8]>> = strings.iter().map(|s| s.as_bytes().into()).collect();
        let txt = decode_txt(&boxed).unwrap();
        assert_eq!(txt.service, "svc");
        assert_eq!(txt.endpoints.len(), 40);
        // go-micro writes nil maps and slices as null.
        let json = br#"{"Service":"svc","Version":"1","Endpoints":null,"Metadata":null}"#;
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(json).unwrap();
        let hex: String = zlib
            .finish()
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let txt = decode_txt(&[hex.as_bytes().into()]).unwrap();
        assert!(txt.endpoints.is_empty() && txt.metadata.is_empty());
        assert!(decode_txt(&[b"zz".as_slice().into()]).is_none());
    }

    #[test]
    fn host_names_are_refused_with_a_hint() {
        let service = Service::new("svc", "1").with_node(Node::new("n", "myhost:9000"));
        let err = records(&service, &service.nodes[0], 30).unwrap_err();
        assert!(
            err.detail().contains("MICRO_SERVER_ADVERTISE"),
            "{}",
            err.detail()
        );
    }
}
