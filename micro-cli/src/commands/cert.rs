//! `micro cert dev`: a development CA and certificates for services, for TLS and mutual
//! TLS between them (`MICRO_TLS_*`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::cli::{CertArgs, CertWhat, Global};
use crate::commands::CliError;

/// The development CA's name; the CA is rebuilt from it and its saved key.
const CA_NAME: &str = "micro development CA";

pub(crate) fn exec(global: &Global, args: CertArgs) -> Result<(), CliError> {
    let CertWhat::Dev { names, dir, days } = args.what;
    if let Some(bad) = names.iter().find(|name| {
        // `ca` would overwrite the CA's own files, a `-key` name another name's key (on
        // case-insensitive disks too).
        name.is_empty()
            || name.eq_ignore_ascii_case("ca")
            || name.to_ascii_lowercase().ends_with("-key")
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    }) {
        return Err(CliError::usage(
            format!(
                "{bad:?} is not a name for a certificate: use letters, digits, '-', '.' and '_' (not ca, nor ending in -key)"
            ),
            Some("the name is the service's registry name, e.g. greeter".into()),
        ));
    }
    let dir = match dir {
        Some(dir) => dir,
        None => super::options(global)?
            .home_dir()
            .map_err(|e| CliError::usage(e.detail(), None))?
            .join("certs"),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let (ca_key, made) = ca(&dir, days)?;
    let issuer = Issuer::new(ca_params(days)?, ca_key);
    let mut text = format!(
        "CA: {} ({})\n",
        dir.join("ca.pem").display(),
        if made { "new" } else { "kept" }
    );
    for name in &names {
        let (cert, key) = leaf(&dir, name, days, &issuer)?;
        text.push_str(&format!(
            "{name}: {} and {}\n",
            cert.display(),
            key.display()
        ));
    }
    let first = names.first().map_or("localhost", String::as_str);
    text.push_str("\nServe and call with TLS (mutual TLS: the CA is set on both sides):\n");
    text.push_str(&format!(
        "  export MICRO_TLS_CA_FILE={} MICRO_TLS_CERT_FILE={} MICRO_TLS_KEY_FILE={}",
        dir.join("ca.pem").display(),
        dir.join(format!("{first}.pem")).display(),
        dir.join(format!("{first}-key.pem")).display()
    ));
    crate::output::print(&text);
    Ok(())
}

fn failed(message: String, hint: Option<String>) -> CliError {
    let mut err = CliError::internal(message);
    err.hint = hint;
    err
}

fn io(path: &Path, e: std::io::Error) -> CliError {
    failed(format!("{}: {e}", path.display()), None)
}

fn rc(what: &str, e: rcgen::Error) -> CliError {
    failed(format!("cannot make the {what}: {e}"), None)
}

fn validity(params: &mut CertificateParams, days: u32) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(days.max(1)));
}

fn ca_params(days: u32) -> Result<CertificateParams, CliError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| rc("CA", e))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, days.max(365));
    Ok(params)
}

/// The CA's key: read from `ca-key.pem`, or made with `ca.pem` beside it (true).
fn ca(dir: &Path, days: u32) -> Result<(KeyPair, bool), CliError> {
    let key_file = dir.join("ca-key.pem");
    let cert_file = dir.join("ca.pem");
    if key_file.exists() && cert_file.exists() {
        let pem = std::fs::read_to_string(&key_file).map_err(|e| io(&key_file, e))?;
        let key = KeyPair::from_pem(&pem).map_err(|e| {
            failed(
                format!("{} holds no usable key: {e}", key_file.display()),
                Some("delete ca.pem and ca-key.pem to make a new CA".into()),
            )
        })?;
        return Ok((key, false));
    }
    let key = KeyPair::generate().map_err(|e| rc("CA key", e))?;
    let cert = ca_params(days)?
        .self_signed(&key)
        .map_err(|e| rc("CA", e))?;
    write_private(&key_file, &key.serialize_pem())?;
    std::fs::write(&cert_file, cert.pem()).map_err(|e| io(&cert_file, e))?;
    Ok((key, true))
}

/// A certificate for `name` (server and client), signed by the CA: `NAME.pem`,
/// `NAME-key.pem`.
fn leaf(
    dir: &Path,
    name: &str,
    days: u32,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(PathBuf, PathBuf), CliError> {
    let mut sans = vec![name.to_owned()];
    if name != "localhost" {
        sans.push("localhost".to_owned());
    }
    let mut params = CertificateParams::new(sans).map_err(|e| rc("certificate", e))?;
    let mut ips: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
    for iface in if_addrs::get_if_addrs().unwrap_or_default() {
        if !ips.contains(&iface.ip()) {
            ips.push(iface.ip());
        }
    }
    params
        .subject_alt_names
        .extend(ips.into_iter().map(SanType::IpAddress));
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    validity(&mut params, days);
    let key = KeyPair::generate().map_err(|e| rc("key", e))?;
    let cert = params
        .signed_by(&key, issuer)
        .map_err(|e| rc("certificate", e))?;
    let cert_file = dir.join(format!("{name}.pem"));
    let key_file = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert_file, cert.pem()).map_err(|e| io(&cert_file, e))?;
    write_private(&key_file, &key.serialize_pem())?;
    Ok((cert_file, key_file))
}

/// Write a private key readable by its owner only.
fn write_private(path: &Path, pem: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| io(path, e))?;
    file.write_all(pem.as_bytes()).map_err(|e| io(path, e))
}
