//! The local S3-compatible server of the object-store tests: `scripts/test`
//! starts one (moto) and sets `BLOCKWORK_S3_ENDPOINT`, and also
//! `BLOCKWORK_REQUIRE_S3`, so that there a missing server fails the test
//! rather than skips it.

use std::io::{Read, Write};

/// The server's endpoint, or `None` (the test skips) when none was started.
pub fn endpoint() -> Option<String> {
    match std::env::var("BLOCKWORK_S3_ENDPOINT") {
        Ok(e) => Some(e),
        Err(_) if std::env::var("BLOCKWORK_REQUIRE_S3").is_ok() => {
            panic!("BLOCKWORK_REQUIRE_S3 is set but BLOCKWORK_S3_ENDPOINT is not")
        }
        Err(_) => {
            eprintln!("skipped: no S3-compatible server (set BLOCKWORK_S3_ENDPOINT, as scripts/test does)");
            None
        }
    }
}

/// A new bucket `PREFIX-PID` on the server at `endpoint`, with this
/// process's AWS settings pointing at it. Made with a plain HTTP request:
/// the test server does not check signatures.
pub fn bucket(endpoint: &str, prefix: &str) -> String {
    std::env::set_var("AWS_ENDPOINT_URL", endpoint);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");
    let bucket = format!("{prefix}-{}", std::process::id());
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).expect("the S3 server");
    write!(s, "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "creating the bucket: {reply}");
    bucket
}
