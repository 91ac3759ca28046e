//! Configuration: command-line flags, `SEAM_*` environment variables and an optional TOML file,
//! in that order of precedence. Resolved once into [`Config`]; nothing reads the environment
//! after start-up.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

/// Flags every command shares. All optional, so the TOML file can fill what is not given.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// Directory for the SQLite database and files.
    #[arg(long = "data", env = "SEAM_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// HTTP listen address.
    #[arg(long = "http", env = "SEAM_HTTP_ADDR", global = true)]
    pub http_addr: Option<SocketAddr>,
    /// SMTP listen address (inbound email).
    #[arg(long = "smtp", env = "SEAM_SMTP_ADDR", global = true)]
    pub smtp_addr: Option<SocketAddr>,
    /// `postgres://…` for PostgreSQL; SQLite in the data directory when absent.
    #[arg(
        long = "database-url",
        env = "SEAM_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// `nats://…` for a cluster bus; the in-process bus when absent.
    #[arg(long = "nats-url", env = "SEAM_NATS_URL", global = true)]
    pub nats_url: Option<String>,
    /// The name the SMTP listener greets with and writes in `Received:` headers.
    #[arg(long = "smtp-hostname", env = "SEAM_SMTP_HOSTNAME", global = true)]
    pub smtp_hostname: Option<String>,
    /// PEM certificate chain for the SMTP listener's STARTTLS (with `--smtp-tls-key`).
    #[arg(long = "smtp-tls-cert", env = "SEAM_SMTP_TLS_CERT", global = true)]
    pub smtp_tls_cert: Option<PathBuf>,
    /// PEM private key for the SMTP listener's STARTTLS.
    #[arg(long = "smtp-tls-key", env = "SEAM_SMTP_TLS_KEY", global = true)]
    pub smtp_tls_key: Option<PathBuf>,
    /// Largest message the SMTP listener and the raw-mail endpoint accept, in bytes.
    #[arg(
        long = "smtp-max-message-bytes",
        env = "SEAM_SMTP_MAX_MESSAGE_BYTES",
        global = true
    )]
    pub smtp_max_message_bytes: Option<usize>,
    /// Check SPF, DKIM and DMARC of mail arriving over SMTP (default true; needs DNS).
    #[arg(
        long = "smtp-sender-checks",
        env = "SEAM_SMTP_SENDER_CHECKS",
        global = true
    )]
    pub smtp_sender_checks: Option<bool>,
    /// Attempts before a delivery job is declared dead.
    #[arg(
        long = "job-max-attempts",
        env = "SEAM_JOB_MAX_ATTEMPTS",
        global = true
    )]
    pub job_max_attempts: Option<i32>,
    /// Mark cookies `Secure` (set when Seam is served over HTTPS).
    #[arg(long = "secure-cookies", env = "SEAM_SECURE_COOKIES", global = true)]
    pub secure_cookies: Option<bool>,
    /// The address providers reach Seam at (`https://support.example.com`): webhook URLs shown
    /// for messaging channels are `{public_url}/hooks/{channel_id}`, and providers fetch reply
    /// files from `{public_url}/media/…`. Default: the HTTP address.
    #[arg(long = "public-url", env = "SEAM_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// 32 bytes, base64 or hex, that seal channel credentials at rest and, through a derived
    /// key, sign media links. Default: a key made on first start in `<data>/secret.key`. Every
    /// node of a cluster needs the same key.
    #[arg(
        long = "secret-key",
        env = "SEAM_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Let media downloads reach private and loopback addresses (for tests and labs only).
    #[arg(
        long = "allow-private-fetch",
        env = "SEAM_ALLOW_PRIVATE_FETCH",
        global = true
    )]
    pub allow_private_fetch: Option<bool>,
    /// Log format: `text` or `json`.
    #[arg(long = "log-format", env = "SEAM_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// A TOML file with any of the settings above (snake_case keys).
    #[arg(long = "config", env = "SEAM_CONFIG", global = true)]
    pub config_file: Option<PathBuf>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    http_addr: Option<SocketAddr>,
    smtp_addr: Option<SocketAddr>,
    smtp_hostname: Option<String>,
    smtp_tls_cert: Option<PathBuf>,
    smtp_tls_key: Option<PathBuf>,
    smtp_max_message_bytes: Option<usize>,
    smtp_sender_checks: Option<bool>,
    database_url: Option<String>,
    nats_url: Option<String>,
    job_max_attempts: Option<i32>,
    secure_cookies: Option<bool>,
    public_url: Option<String>,
    secret_key: Option<String>,
    allow_private_fetch: Option<bool>,
    log_format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    pub smtp_addr: SocketAddr,
    pub smtp: SmtpSettings,
    pub database_url: String,
    pub nats_url: Option<String>,
    pub job_max_attempts: i32,
    pub secure_cookies: bool,
    pub log_json: bool,
    /// Where providers reach Seam; `None`: the bound HTTP address.
    pub public_url: Option<String>,
    /// The key that seals channel credentials; `None`: the key file in the data directory.
    pub secret_key: Option<SecretKey>,
    /// Media downloads may reach private addresses.
    pub allow_private_fetch: bool,
    /// How long shutdown waits for in-flight requests and jobs.
    pub shutdown_grace: Duration,
}

/// The configured credentials key, as given. Its `Debug` shows nothing.
#[derive(Clone)]
pub struct SecretKey(pub String);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(********)")
    }
}

/// The SMTP listener's settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub hostname: String,
    /// Certificate chain and key files for STARTTLS; plain SMTP only when absent.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub max_message_bytes: usize,
    /// Evaluate SPF, DKIM and DMARC of mail arriving over SMTP.
    pub sender_checks: bool,
}

/// 25 MiB, the common limit of mail providers.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;

impl Config {
    pub fn resolve(args: &ConfigArgs) -> anyhow::Result<Config> {
        let file = match &args.config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| "seam-data".into());
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir));
        let log_format = args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        let log_json = match log_format.as_str() {
            "json" => true,
            "text" => false,
            other => bail!("log format must be text or json, not {other}"),
        };
        let job_max_attempts = args
            .job_max_attempts
            .or(file.job_max_attempts)
            .unwrap_or(seam_core::jobs::DEFAULT_MAX_ATTEMPTS);
        if !(1..=50).contains(&job_max_attempts) {
            bail!("job max attempts must be between 1 and 50");
        }
        let tls = match (
            args.smtp_tls_cert.clone().or(file.smtp_tls_cert),
            args.smtp_tls_key.clone().or(file.smtp_tls_key),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => bail!("the SMTP listener needs both a TLS certificate and its key, or neither"),
        };
        let max_message_bytes = args
            .smtp_max_message_bytes
            .or(file.smtp_max_message_bytes)
            .unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
        if !(64 * 1024..=200 * 1024 * 1024).contains(&max_message_bytes) {
            bail!("the SMTP message size limit must be between 64 KiB and 200 MiB");
        }
        let smtp = SmtpSettings {
            hostname: args
                .smtp_hostname
                .clone()
                .or(file.smtp_hostname)
                .unwrap_or_else(|| "localhost".into()),
            tls,
            max_message_bytes,
            sender_checks: args
                .smtp_sender_checks
                .or(file.smtp_sender_checks)
                .unwrap_or(true),
        };
        Ok(Config {
            data_dir,
            smtp,
            http_addr: args
                .http_addr
                .or(file.http_addr)
                .unwrap_or(([127, 0, 0, 1], 8080).into()),
            smtp_addr: args
                .smtp_addr
                .or(file.smtp_addr)
                .unwrap_or(([127, 0, 0, 1], 2525).into()),
            database_url,
            nats_url: args.nats_url.clone().or(file.nats_url),
            public_url: match args.public_url.clone().or(file.public_url) {
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                    Some(url.trim_end_matches('/').to_string())
                }
                Some(_) => bail!("the public URL must start with https:// or http://"),
                None => None,
            },
            secret_key: args.secret_key.clone().or(file.secret_key).map(SecretKey),
            allow_private_fetch: args
                .allow_private_fetch
                .or(file.allow_private_fetch)
                .unwrap_or(false),
            job_max_attempts,
            secure_cookies: args.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            log_json,
            shutdown_grace: Duration::from_secs(20),
        })
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing configuration file {}", path.display()))
}

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("seam.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seam.toml");
        std::fs::write(
            &path,
            "http_addr = \"127.0.0.1:9000\"\njob_max_attempts = 3\n",
        )
        .unwrap();
        let args = ConfigArgs {
            config_file: Some(path),
            job_max_attempts: Some(5),
            ..ConfigArgs::default()
        };
        let config = Config::resolve(&args).unwrap();
        assert_eq!(config.http_addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.job_max_attempts, 5);
        assert_eq!(config.database_url, "sqlite://seam-data/seam.db");
    }

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seam.toml");
        std::fs::write(&path, "htp_addr = \"127.0.0.1:9000\"\n").unwrap();
        let args = ConfigArgs {
            config_file: Some(path),
            ..ConfigArgs::default()
        };
        assert!(Config::resolve(&args).is_err());
    }
}
