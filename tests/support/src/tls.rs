//! The test CA and the certificates it signs (server and client), and an HTTP client that
//! trusts it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::run_tool;

/// A client certificate signed by the test CA (as [`crate::RegistryMode::MutualTls`] demands):
/// PEM contents and where they are.
#[derive(Debug)]
pub(crate) struct ClientIdentity {
    pub(crate) cert_pem: Vec<u8>,
    pub(crate) key_pem: Vec<u8>,
    pub(crate) cert_path: PathBuf,
    pub(crate) key_path: PathBuf,
}

/// An HTTP client without proxies, trusting only `ca_pem` when given, and presenting
/// `identity` when given.
pub(crate) fn http_client(ca_pem: Option<&[u8]>, identity: Option<&ClientIdentity>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_mins(1));
    if let Some(pem) = ca_pem {
        let cert = reqwest::Certificate::from_pem(pem).expect("parsing the test CA certificate");
        builder = builder.tls_certs_only([cert]);
    }
    if let Some(identity) = identity {
        let mut both = identity.cert_pem.clone();
        both.extend_from_slice(&identity.key_pem);
        let identity = reqwest::Identity::from_pem(&both).expect("parsing the test client certificate");
        builder = builder.identity(identity);
    }
    builder.build().expect("building the HTTP client")
}

/// Makes a test CA and a leaf for `localhost` / `127.0.0.1` signed by it (`tls.crt`, `tls.key`)
/// in `dir`; returns the CA certificate's path. A separate CA is needed because rustls rejects a
/// self-signed CA certificate used as a server certificate. P-256 keys: quick to make.
pub(crate) async fn make_tls_certificates(dir: &Path) -> PathBuf {
    let ca_key = dir.join("ca.key");
    let ca_crt = dir.join("ca.crt");
    let leaf_key = dir.join("tls.key");
    let leaf_csr = dir.join("tls.csr");
    let leaf_crt = dir.join("tls.crt");
    let leaf_ext = dir.join("leaf.ext");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run_tool(
        tokio::process::Command::new("openssl")
            .args(["req", "-x509", "-days", "2", "-subj", "/CN=imagebump test CA"])
            .args(ec)
            .arg("-keyout")
            .arg(&ca_key)
            .arg("-out")
            .arg(&ca_crt),
        "openssl req (test CA)",
    )
    .await;
    run_tool(
        tokio::process::Command::new("openssl")
            .args(["req", "-new", "-subj", "/CN=localhost"])
            .args(ec)
            .arg("-keyout")
            .arg(&leaf_key)
            .arg("-out")
            .arg(&leaf_csr),
        "openssl req (server key)",
    )
    .await;
    fs::write(
        &leaf_ext,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("writing the certificate extensions");
    run_tool(
        tokio::process::Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
            .arg(&leaf_csr)
            .arg("-CA")
            .arg(&ca_crt)
            .arg("-CAkey")
            .arg(&ca_key)
            .arg("-extfile")
            .arg(&leaf_ext)
            .arg("-out")
            .arg(&leaf_crt),
        "openssl x509 (sign the server certificate)",
    )
    .await;
    ca_crt
}

/// Makes a client certificate (`client.crt`, `client.key`; extended key usage `clientAuth`)
/// signed by the test CA that [`make_tls_certificates`] left in `dir`.
pub(crate) async fn make_client_certificate(dir: &Path) -> ClientIdentity {
    let key_path = dir.join("client.key");
    let csr = dir.join("client.csr");
    let cert_path = dir.join("client.crt");
    let ext = dir.join("client.ext");
    run_tool(
        tokio::process::Command::new("openssl")
            .args(["req", "-new", "-subj", "/CN=imagebump test client"])
            .args([
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
            ])
            .arg("-keyout")
            .arg(&key_path)
            .arg("-out")
            .arg(&csr),
        "openssl req (client key)",
    )
    .await;
    fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .expect("writing the client certificate extensions");
    run_tool(
        tokio::process::Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(dir.join("ca.crt"))
            .arg("-CAkey")
            .arg(dir.join("ca.key"))
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&cert_path),
        "openssl x509 (sign the client certificate)",
    )
    .await;
    ClientIdentity {
        cert_pem: fs::read(&cert_path).expect("reading the client certificate"),
        key_pem: fs::read(&key_path).expect("reading the client key"),
        cert_path,
        key_path,
    }
}
