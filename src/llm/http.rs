//! POST a JSON body and classify the outcome. The interface to reqwest (and to rustls, its TLS)
//! is localized here; the providers only build bodies and read replies.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::provider::ProviderError;

/// Why `text` cannot be a server's base URL, if it cannot: it needs an `http` or `https`
/// scheme and a host. Checked when a setting is read, so a typo is not retried as a DNS error.
pub fn unusable_url(text: &str) -> Option<String> {
    match reqwest::Url::parse(text) {
        Err(err) => Some(err.to_string()),
        Ok(url) if !matches!(url.scheme(), "http" | "https") => Some(format!(
            "the scheme is `{}`, not http or https",
            url.scheme()
        )),
        Ok(url) if url.host_str().is_none_or(str::is_empty) => Some("no host".to_owned()),
        Ok(_) => None,
    }
}

/// A shared HTTP client with a per-request timeout.
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, String> {
        // reqwest is built without a crypto provider (its own, aws-lc-rs, is a long C build at
        // install time): ring serves the process. An error means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("cargo-testsmith/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("could not set up the HTTP client: {err}"))?;
        Ok(Http { client })
    }

    /// POST `body` to `url` with `headers`; the reply body on a 2xx, else a classified error.
    /// Header values (API keys) never appear in an error.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<String, ProviderError> {
        let mut request = self.client.post(url).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .map_err(|err| transport_error(url, &err))?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let text = response
            .text()
            .await
            .map_err(|err| transport_error(url, &err))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        let message = format!("{url} answered HTTP {status}: {}", server_message(&text));
        if matches!(status, 408 | 409 | 429 | 529) || (500..600).contains(&status) {
            Err(ProviderError::Transient {
                message,
                retry_after,
                unreachable: false,
            })
        } else {
            Err(ProviderError::Permanent { message, status })
        }
    }
}

/// Connect errors, timeouts and broken connections are worth a retry; a URL that cannot be
/// used, a redirect loop or a body that cannot be decoded are not.
fn transport_error(url: &str, err: &reqwest::Error) -> ProviderError {
    // reqwest's Display may carry the URL; say it once, without the chain's noise.
    let cause = root_cause(err);
    if err.is_builder() || err.is_redirect() || err.is_decode() {
        return ProviderError::Permanent {
            message: format!("request to {url} cannot be made ({cause})"),
            // Not an HTTP status: the request never got an answer; see `is_fatal`.
            status: 0,
        };
    }
    let what = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        format!("could not connect ({cause})")
    } else {
        format!("failed ({cause})")
    };
    ProviderError::Transient {
        message: format!("request to {url} {what}"),
        retry_after: None,
        unreachable: err.is_connect(),
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The error text a server sent, shortened: `{"error":{"message":…}}` when it is JSON.
fn server_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("message"))
        })
        .and_then(|m| m.as_str())
        .unwrap_or(body)
        .trim();
    let mut short: String = message.chars().take(300).collect();
    if short.len() < message.len() {
        short.push('…');
    }
    if short.is_empty() {
        "(empty body)".to_owned()
    } else {
        short
    }
}

/// `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    // A server's number can be anything (negative, NaN, 1e30): only a sane one counts, and a
    // huge one saturates here and is capped by the retry layer.
    let seconds = |value: f64| {
        (value.is_finite() && value >= 0.0)
            .then(|| Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX))
    };
    if let Some(wait) = get("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|ms| seconds(ms / 1000.0))
    {
        return Some(wait);
    }
    let value = get("retry-after")?;
    if let Ok(number) = value.parse::<f64>() {
        return seconds(number);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn retry_after_forms() {
        let ms = retry_after(&headers(&[("retry-after-ms", "250"), ("retry-after", "9")]));
        assert_eq!(ms, Some(Duration::from_millis(250)));
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let date = retry_after(&headers(&[("retry-after", &future)])).unwrap();
        assert!(
            date > Duration::from_secs(25) && date <= Duration::from_secs(30),
            "{date:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1e30")])),
            Some(Duration::MAX)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "inf")])), None);
        let fallback = retry_after(&headers(&[("retry-after-ms", "NaN"), ("retry-after", "3")]));
        assert_eq!(fallback, Some(Duration::from_secs(3)));
    }

    #[test]
    fn server_messages_are_extracted_and_shortened() {
        assert_eq!(
            server_message(r#"{"error":{"message":"bad key"}}"#),
            "bad key"
        );
        assert_eq!(server_message("plain"), "plain");
        assert_eq!(server_message(&"x".repeat(400)).chars().count(), 301);
    }
}
