//! HTTPS with the TLS the binary is built with (rustls, ring provider): a real TLS server on
//! localhost with a certificate from the test CA in `fixtures/tls` (valid until 2126; its key
//! was thrown away). The binary trusts that CA only through `SSL_CERT_FILE`, as it would a
//! company's; without it, the certificate is refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::{fixture, testsmith};
use predicates::prelude::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

/// An HTTPS server on localhost that answers every request with a 401 and an OpenAI-style
/// error; its URL.
fn https_server() -> String {
    let certs = CertificateDer::pem_file_iter(tls_fixture("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_fixture("server.key")).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let connection = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            // A handshake the client refuses ends here; the next connection is served.
            let _ = answer(rustls::StreamOwned::new(connection, stream));
        }
    });
    format!("https://localhost:{port}")
}

fn answer(
    stream: rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    reader.read_exact(&mut vec![0; length])?;
    let body = r#"{"error":{"message":"key refused over TLS"}}"#;
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    stream.conn.send_close_notify();
    stream.flush()
}

#[test]
fn https_reaches_a_server_whose_ca_is_trusted_and_refuses_one_whose_is_not() {
    let dir = fixture("llm");
    let url = https_server();
    let run = |trust: bool| {
        let mut cmd = testsmith(dir.path());
        cmd.args(["--llm", "--no-verify", "--provider", "openai", "--base-url"])
            .arg(format!("{url}/v1"))
            .env("OPENAI_API_KEY", "sk-test")
            .env_remove("SSL_CERT_DIR");
        if trust {
            cmd.env("SSL_CERT_FILE", tls_fixture("ca.pem"));
        } else {
            cmd.env_remove("SSL_CERT_FILE");
        }
        cmd.assert().code(2)
    };
    run(true).stderr(predicate::str::contains(
        "answered HTTP 401: key refused over TLS",
    ));
    run(false).stderr(predicate::str::contains("invalid peer certificate"));
}
