//! `multipart/mixed` bodies: statements with their attachments (xAPI 2.1.3 / 1.0.3 §2.4.11).

use xlrs_store::Attachment;

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The part's content.
    pub body: Vec<u8>,
}

impl Part {
    /// The value of a header, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The `boundary` parameter of a `multipart/mixed` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut pieces = content_type.split(';');
    let essence = pieces.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    pieces.find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Splits a body into its parts.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut pos = if body.starts_with(delimiter.as_bytes()) {
        0
    } else {
        find(body, next_delimiter.as_bytes(), 0).ok_or("no multipart boundary found")? + 2
    };
    let mut parts = Vec::new();
    loop {
        pos += delimiter.len();
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then CRLF.
        let line_end = find(body, b"\r\n", pos).ok_or("truncated multipart boundary line")?;
        if !body[pos..line_end]
            .iter()
            .all(|b| *b == b' ' || *b == b'\t')
        {
            return Err("malformed multipart boundary line".into());
        }
        let start = line_end + 2;
        let end = find(body, next_delimiter.as_bytes(), start)
            .ok_or("multipart body ends without a closing boundary")?;
        parts.push(parse_part(&body[start..end])?);
        pos = end + 2;
    }
}

fn parse_part(raw: &[u8]) -> Result<Part, String> {
    let (head, body) = if raw.starts_with(b"\r\n") {
        (&raw[..0], &raw[2..])
    } else {
        let split = find(raw, b"\r\n\r\n", 0)
            .ok_or("a multipart part has no blank line after its headers")?;
        (&raw[..split], &raw[split + 4..])
    };
    let head = std::str::from_utf8(head).map_err(|_| "multipart part headers are not UTF-8")?;
    let mut headers = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("malformed multipart header line `{line}`"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Part {
        headers,
        body: body.to_vec(),
    })
}

/// Builds a multipart/mixed body from parts; returns the content type with its boundary.
pub fn build(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = format!("xlrs-{}", uuid::Uuid::new_v4().simple());
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        for (name, value) in &part.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&part.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/mixed; boundary={boundary}"), out)
}

pub use xlrs_xapi::statement::attachment_hashes;

/// Statements JSON and attachment contents as one multipart/mixed body (xAPI's request and
/// response form); returns the content type with its boundary.
pub fn with_attachments(json: Vec<u8>, attachments: Vec<Attachment>) -> (String, Vec<u8>) {
    let mut parts = vec![Part {
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: json,
    }];
    parts.extend(attachments.into_iter().map(|a| Part {
        headers: vec![
            ("Content-Type".into(), a.content_type),
            ("Content-Transfer-Encoding".into(), "binary".into()),
            ("X-Experience-API-Hash".into(), a.sha2),
        ],
        body: a.content,
    }));
    build(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_is_read_from_the_content_type() {
        assert_eq!(
            boundary("multipart/mixed; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Mixed;boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/json"), None);
    }

    #[test]
    fn a_built_body_parses_back() {
        let parts = vec![
            Part {
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"{}".to_vec(),
            },
            Part {
                headers: vec![("content-type".into(), "text/plain".into())],
                body: b"line1\r\nline2".to_vec(),
            },
        ];
        let (ct, body) = build(&parts);
        let b = boundary(&ct).unwrap();
        assert_eq!(parse(&body, &b).unwrap(), parts);
    }

    #[test]
    fn a_body_without_closing_boundary_is_rejected() {
        assert!(parse(b"--b\r\nContent-Type: a\r\n\r\nxx", "b").is_err());
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_multipart_body_gets_a_verdict(
            body in prop::collection::vec(any::<u8>(), 0..512),
            boundary in "[a-zA-Z0-9'()+_,./:=?-]{0,20}",
        ) {
            let _ = super::parse(&body, &boundary);
        }

        #[test]
        fn a_corrupted_multipart_body_gets_a_verdict(
            cut in any::<usize>(),
            flip in any::<usize>(),
            byte in any::<u8>(),
        ) {
            let mut body = b"--b\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--b\r\nContent-Type: text/plain\r\nX-Experience-API-Hash: 00\r\n\r\nhello\r\n--b--\r\n".to_vec();
            let n = body.len();
            body[flip % n] = byte;
            body.truncate(cut % (n + 1));
            let _ = super::parse(&body, "b");
        }
    }
}
