//! The HTTP client every sender shares: rustls on the `ring` provider, bounded timeouts, no
//! redirects (a redirect would carry a signed body somewhere the operator did not configure).

use std::time::Duration;

use seam_core::{Error, Result};

/// Installs `ring` as the process's TLS provider if no provider is installed yet.
pub fn install_tls_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn client(timeout: Duration) -> Result<reqwest::Client> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Seam/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(Error::internal)
}
