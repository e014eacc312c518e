//! A loopback HTTP `CONNECT` proxy for tests: it tunnels to loopback targets only, can
//! demand `Proxy-Authorization`, and records every tunnel it was asked for.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One `CONNECT` the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelRequest {
    /// `host:port` asked for.
    pub target: String,
    /// The `Proxy-Authorization` header, if any.
    pub authorization: Option<String>,
    /// The status the proxy answered (200, 403, 407, 400, 502).
    pub status: u16,
}

#[derive(Debug, Default)]
struct Shared {
    tunnels: Mutex<Vec<TunnelRequest>>,
    stop: AtomicBool,
    /// How many coming tunnels to refuse with 502 (a proxy that cannot reach the server).
    refuse: Mutex<u32>,
}

/// A running proxy; dropped, it stops accepting (open tunnels end with their peers).
#[derive(Debug)]
pub struct ConnectProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl ConnectProxy {
    /// Starts a proxy on a free loopback port; `authorization`: the exact
    /// `Proxy-Authorization` value to demand (407 otherwise).
    ///
    /// # Panics
    /// When no loopback port can be bound (a broken test machine).
    pub fn start(authorization: Option<&str>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let shared = Arc::new(Shared::default());
        let (s, want) = (Arc::clone(&shared), authorization.map(str::to_owned));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (s, want) = (Arc::clone(&s), want.clone());
                thread::spawn(move || {
                    let _ = serve(conn, &s, want.as_deref());
                });
            }
        });
        ConnectProxy { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next `n` tunnels with 502 Bad Gateway: to the client, a connect that
    /// failed before any byte of its request was written.
    pub fn refuse_next(&self, n: u32) {
        *crate::sim::lock(&self.shared.refuse) = n;
    }

    /// Every `CONNECT` so far.
    pub fn tunnels(&self) -> Vec<TunnelRequest> {
        crate::sim::lock(&self.shared.tunnels).clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn serve(mut client: TcpStream, shared: &Shared, want: Option<&str>) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let head = read_head(&mut client)?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_owned());
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let status = if method != "CONNECT" {
        400
    } else if want.is_some() && authorization.as_deref() != want {
        407
    } else if !is_loopback(target) {
        403 // tests never leave the machine
    } else {
        200
    };
    let refused = {
        let mut left = crate::sim::lock(&shared.refuse);
        let refuse = status == 200 && *left > 0;
        *left = left.saturating_sub(u32::from(refuse));
        refuse
    };
    let upstream = match status {
        200 if !refused => TcpStream::connect(target).ok(),
        _ => None,
    };
    let status = if status == 200 && upstream.is_none() {
        502
    } else {
        status
    };
    crate::sim::lock(&shared.tunnels).push(TunnelRequest {
        target: target.to_owned(),
        authorization,
        status,
    });
    let Some(upstream) = upstream else {
        let reason = match status {
            407 => "Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"",
            403 => "Forbidden",
            502 => "Bad Gateway",
            _ => "Bad Request",
        };
        write!(
            client,
            "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n"
        )?;
        return client.shutdown(Shutdown::Both);
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.set_read_timeout(None)?;
    let (mut c2, mut u2) = (client.try_clone()?, upstream.try_clone()?);
    let (mut c1, mut u1) = (client, upstream);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut c1, &mut u1);
        let _ = u1.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut u2, &mut c2);
    let _ = c2.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

/// Reads up to the blank line ending the request head (at most 16 KiB).
fn read_head(conn: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || conn.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no request head",
            ));
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn is_loopback(target: &str) -> bool {
    let host = target.rsplit_once(':').map_or(target, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
