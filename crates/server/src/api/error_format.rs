//! Error bodies by content negotiation (xAPI Communication 3.2: "The LRS SHOULD allow for plain
//! text, HTML, and JSON responses for errors (using content negotiation)"). JSON stays the
//! default; a client whose `Accept` prefers `text/plain` or `text/html` gets the same message
//! in that form.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use serde_json::Value;

/// The form of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// `{"error": …, "message": …}` (the default).
    Json,
    /// The message alone.
    Text,
    /// A small HTML page holding the message.
    Html,
}

/// The form an `Accept` header prefers: the highest quality among JSON, plain text and HTML,
/// JSON on a tie, for `*/*` and when none is named.
pub fn preferred(accept: Option<&str>) -> ErrorFormat {
    let Some(accept) = accept else {
        return ErrorFormat::Json;
    };
    let mut best = (ErrorFormat::Json, 0.0_f32, 0_u8);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        // On equal quality: JSON before HTML before text.
        let (format, rank) = match media.as_str() {
            "application/json" | "application/*" | "*/*" => (ErrorFormat::Json, 3),
            "text/html" => (ErrorFormat::Html, 2),
            "text/plain" | "text/*" => (ErrorFormat::Text, 1),
            _ => continue,
        };
        if quality > best.1 || (quality == best.1 && rank > best.2) {
            best = (format, quality, rank);
        }
    }
    best.0
}

/// Rewrites a JSON error response (`{"error", "message", …}`) into `format`; other responses
/// and JSON are returned as they are.
pub async fn render(response: Response, format: ErrorFormat) -> Response {
    if format == ErrorFormat::Json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    let (text, content_type) = match format {
        ErrorFormat::Text => (format!("{message}\n"), "text/plain; charset=utf-8"),
        _ => {
            let status = parts.status;
            let title = format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            );
            (
                format!(
                    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title></head>\
                     <body><h1>{0}</h1><p>{1}</p></body></html>\n",
                    escape_html(&title),
                    escape_html(&message)
                ),
                "text/html; charset=utf-8",
            )
        }
    };
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_default_and_wins_ties() {
        assert_eq!(preferred(None), ErrorFormat::Json);
        assert_eq!(preferred(Some("*/*")), ErrorFormat::Json);
        assert_eq!(preferred(Some("image/png")), ErrorFormat::Json);
        assert_eq!(
            preferred(Some("text/plain, application/json")),
            ErrorFormat::Json
        );
    }

    #[test]
    fn the_highest_quality_form_is_chosen() {
        assert_eq!(preferred(Some("text/plain")), ErrorFormat::Text);
        assert_eq!(
            preferred(Some("text/html,application/xhtml+xml,*/*;q=0.8")),
            ErrorFormat::Html
        );
        assert_eq!(
            preferred(Some("application/json;q=0.5, text/plain;q=0.9")),
            ErrorFormat::Text
        );
        assert_eq!(
            preferred(Some("text/html;q=0.1, application/json")),
            ErrorFormat::Json
        );
    }

    #[test]
    fn html_error_pages_escape_the_message() {
        assert_eq!(escape_html("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
