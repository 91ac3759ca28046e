//! A plain HTTP client of the API holding one credential (none, bearer, or cookie with or
//! without the CSRF header), and the responses it sees.

use std::time::Duration;

use serde_json::Value;

/// Installs the TLS crypto provider reqwest expects to find. Plain-HTTP clients still build a
/// TLS configuration, so every client in the harness comes from here.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[derive(Clone, Debug)]
enum Credential {
    None,
    Bearer(String),
    Cookie {
        cookie: String,
        csrf: Option<String>,
    },
}

/// A client of the HTTP API with one credential.
#[derive(Clone, Debug)]
pub struct Api {
    pub base_url: String,
    client: reqwest::Client,
    credential: Credential,
}

/// What came back: status, headers, the raw text and the JSON it parsed to (or `Null`).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Response {
    /// The `error.code` of a JSON error body.
    pub fn error_code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }

    /// The `error.message` of a JSON error body.
    pub fn error_message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or_default()
    }

    pub fn error_field(&self) -> Option<&str> {
        self.json["error"]["field"].as_str()
    }

    /// Asserts the error shape of design §6: a code and a human-readable reason.
    pub fn assert_error(&self, status: u16) {
        assert_eq!(self.status, status, "unexpected status: {self:?}");
        assert!(
            !self.error_code().is_empty(),
            "error without a code: {self:?}"
        );
        assert!(
            !self.error_message().is_empty(),
            "error without a reason: {self:?}"
        );
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}

impl Api {
    pub fn anonymous(base_url: &str) -> Api {
        Api {
            base_url: base_url.to_string(),
            client: http_client(),
            credential: Credential::None,
        }
    }

    pub fn bearer(base_url: &str, token: &str) -> Api {
        Api {
            base_url: base_url.to_string(),
            client: http_client(),
            credential: Credential::Bearer(token.to_string()),
        }
    }

    pub fn cookie(base_url: &str, cookie: &str, csrf: Option<&str>) -> Api {
        Api {
            base_url: base_url.to_string(),
            client: http_client(),
            credential: Credential::Cookie {
                cookie: cookie.to_string(),
                csrf: csrf.map(str::to_string),
            },
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{}", self.base_url, path));
        match &self.credential {
            Credential::None => request,
            Credential::Bearer(token) => request.bearer_auth(token),
            Credential::Cookie { cookie, csrf } => {
                let request = request.header(reqwest::header::COOKIE, cookie);
                match csrf {
                    Some(csrf) => request.header("X-CSRF-Token", csrf),
                    None => request,
                }
            }
        }
    }

    async fn send(request: reqwest::RequestBuilder) -> Response {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        Self::send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        Self::send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        Self::send(self.request(reqwest::Method::PATCH, path).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        Self::send(self.request(reqwest::Method::PUT, path).json(&body)).await
    }

    /// A POST with a body sent byte for byte, for malformed and oversized payloads.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        Self::send(
            self.request(reqwest::Method::POST, path)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }

    /// Every item of a cursor-paginated list, following `next_cursor` to the end.
    pub async fn list_all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let page_path = match &cursor {
                Some(cursor) => format!("{path}{separator}limit=100&cursor={cursor}"),
                None => format!("{path}{separator}limit=100"),
            };
            let page = self.get(&page_path).await;
            assert_eq!(page.status, 200, "listing {page_path} failed: {page:?}");
            items.extend(
                page.json["items"]
                    .as_array()
                    .expect("a list has items")
                    .iter()
                    .cloned(),
            );
            match page.json["next_cursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = Some(next.to_string()),
                _ => return items,
            }
        }
    }
}
