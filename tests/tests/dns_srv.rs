//! Both faces' `DnsSrv` (feature `dns`) against a loopback DNS server that answers with
//! hand-written bytes (RFC 1035 messages, RFC 2782 SRV data): the records come back as
//! the core's `SrvRecord`s, a name without records is an empty answer, and the query is
//! the fully qualified `_autodiscover._tcp.{domain}` of type SRV. No other network.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

use ews_proto::autodiscover::SrvRecord;

/// The domain whose SRV name has records; any other name is NXDOMAIN.
const NAME: &str = "_autodiscover._tcp.contoso.com";

/// A DNS name in wire form.
fn labels(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(u8::try_from(label.len()).expect("a short label"));
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// One SRV answer for the question's name (a pointer to offset 12).
fn srv_answer(priority: u16, weight: u16, port: u16, target: &str) -> Vec<u8> {
    let mut rdata = Vec::new();
    for n in [priority, weight, port] {
        rdata.extend_from_slice(&n.to_be_bytes());
    }
    rdata.extend(labels(target));
    let mut out = vec![0xC0, 0x0C, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10];
    out.extend_from_slice(&u16::try_from(rdata.len()).expect("short").to_be_bytes());
    out.extend(rdata);
    out
}

/// The question of a query: its name (dotted, lowercase) and type, and its bytes.
fn question(query: &[u8]) -> Option<(String, u16, &[u8])> {
    let mut at = 12;
    let mut name = Vec::new();
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        name.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    Some((name.join("."), qtype, query.get(12..at + 4)?))
}

/// The questions a server was asked: name and type.
type Asked = Arc<Mutex<Vec<(String, u16)>>>;

/// A UDP DNS server on loopback: `NAME` has two SRV records, every other name is
/// NXDOMAIN. Returns its address and the questions it was asked.
fn dns_server() -> (SocketAddr, Asked) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a loopback port");
    let addr = socket.local_addr().expect("its address");
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = socket.recv_from(&mut buf) {
            let query = &buf[..n];
            let Some((name, qtype, q)) = question(query) else {
                continue;
            };
            log.lock()
                .expect("not poisoned")
                .push((name.clone(), qtype));
            let found = name == NAME && qtype == 33;
            let mut reply = vec![query[0], query[1], 0x81, if found { 0x80 } else { 0x83 }];
            reply.extend_from_slice(&[0, 1, 0, if found { 2 } else { 0 }, 0, 0, 0, 0]);
            reply.extend_from_slice(q);
            if found {
                reply.extend(srv_answer(10, 60, 443, "mail.contoso.com"));
                reply.extend(srv_answer(20, 0, 8443, "ad.contoso.com"));
            }
            let _ = socket.send_to(&reply, peer);
        }
    });
    (addr, asked)
}

fn expected() -> Vec<SrvRecord> {
    vec![
        SrvRecord::new(10, 60, 443, "mail.contoso.com."),
        SrvRecord::new(20, 0, 8443, "ad.contoso.com."),
    ]
}

#[test]
fn the_blocking_resolver_maps_srv_records_and_nxdomain() {
    use ews_blocking::SrvResolver as _;
    let (addr, asked) = dns_server();
    let dns = ews_blocking::DnsSrv::with_name_server(addr).expect("a resolver");
    let mut found = dns.srv(NAME).expect("records");
    found.sort_by_key(|r| r.priority);
    assert_eq!(found, expected());
    let none = dns
        .srv("_autodiscover._tcp.fabrikam.com")
        .expect("no records is no error");
    assert!(none.is_empty(), "{none:?}");
    let asked = asked.lock().expect("not poisoned");
    assert_eq!(asked[0], (NAME.to_owned(), 33), "{asked:?}");
}

#[tokio::test]
async fn the_async_resolver_maps_srv_records_and_nxdomain() {
    use ews_async::SrvResolver as _;
    let (addr, asked) = dns_server();
    let dns = ews_async::DnsSrv::with_name_server(addr);
    let mut found = dns.srv(NAME).await.expect("records");
    found.sort_by_key(|r| r.priority);
    assert_eq!(found, expected());
    let none = dns
        .srv("_autodiscover._tcp.fabrikam.com")
        .await
        .expect("no records is no error");
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(
        asked.lock().expect("not poisoned")[0],
        (NAME.to_owned(), 33)
    );
}

#[test]
fn discovery_asks_the_srv_target_the_dns_server_names() {
    use ews_blocking::proto::{Credentials, TransportError, TransportErrorKind};
    let (addr, _) = dns_server();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    let e = ews_blocking::Autodiscover::new("kim@contoso.com", Credentials::None)
        .srv_resolver(ews_blocking::DnsSrv::with_name_server(addr).expect("a resolver"))
        .transport(ews_blocking::FnTransport::new(
            move |request: http::Request<bytes::Bytes>| {
                log.lock()
                    .expect("not poisoned")
                    .push(request.uri().to_string());
                Err(TransportError::new(TransportErrorKind::Connect, "refused"))
            },
        ))
        .discover()
        .expect_err("nothing answers");
    // The port-443 record's host is asked; the 8443 one is not used.
    let sent = sent.lock().expect("not poisoned");
    assert!(
        sent.iter()
            .any(|u| u == "https://mail.contoso.com/autodiscover/autodiscover.svc"),
        "{sent:?}"
    );
    assert!(
        !sent.iter().any(|u| u.contains("//ad.contoso.com")),
        "{sent:?}"
    );
    assert!(e.to_string().contains(NAME), "{e}");
}
