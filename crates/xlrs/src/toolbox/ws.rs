//! The WebSocket backend, as Ralph's `ws` backend: statements read from a WebSocket stream
//! (each text message a statement or a JSON array of statements) until the server closes it,
//! and written as one text message per statement.

use std::io::{BufRead, Write};

use anyhow::{anyhow, bail, Context};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::{self, Message};

use super::backends::AsyncBackend;
use super::lines::Checked;
use super::progress::{LineCopy, Progress};
use super::{ReadFrom, WriteTo, Written};

/// The `ws://` or `wss://` URL of `--url`.
fn checked_url(url: Option<&str>) -> anyhow::Result<&str> {
    let url = url.ok_or_else(|| anyhow!("--backend ws needs --url ws://… or wss://…"))?;
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        bail!("--url must be ws://… or wss://…, got {url}");
    }
    Ok(url)
}

/// Writes the statements received from `url` to `out` until the server closes the stream,
/// skipping the first `skip`. Returns how many were written.
pub async fn read(url: Option<&str>, skip: u64, out: &mut dyn Write) -> anyhow::Result<u64> {
    let url = checked_url(url)?;
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let mut copy = LineCopy::new(skip, "read");
    let mut number = 0usize;
    while let Some(message) = socket.next().await {
        let text = match message.with_context(|| format!("receiving from {url}"))? {
            Message::Text(text) => text.to_string(),
            Message::Binary(bytes) => String::from_utf8(bytes.to_vec())
                .with_context(|| format!("a binary message from {url} is not UTF-8"))?,
            Message::Close(_) => break,
            _ => continue,
        };
        number += 1;
        let place = || format!("message {number} from {url}");
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(statements)) => {
                for statement in statements {
                    copy.line(&statement.to_string(), out, place)?;
                }
            }
            _ => copy.line(&text, out, place)?,
        }
    }
    Ok(copy.finish())
}

/// Sends each JSON line of `input` to `url` as one text message, then closes the stream.
/// Every line is checked first: an invalid one sends nothing. Returns how many were sent.
pub async fn write(url: Option<&str>, input: &mut dyn BufRead) -> anyhow::Result<u64> {
    let url = checked_url(url)?;
    let mut checked = Checked::take(input)?;
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let progress = Progress::new("written");
    let mut sent = 0u64;
    for line in checked.lines()? {
        socket
            .feed(Message::text(line?))
            .await
            .with_context(|| format!("sending to {url}"))?;
        sent += 1;
        progress.add(1);
    }
    socket
        .flush()
        .await
        .with_context(|| format!("sending to {url}"))?;
    socket.close(None).await.or_else(|e| match e {
        tungstenite::Error::ConnectionClosed => Ok(()),
        e => Err(e),
    })?;
    // Wait for the server's close frame: the stream ends once it took every message.
    while let Some(message) = socket.next().await {
        match message {
            Ok(_) | Err(tungstenite::Error::ConnectionClosed) => {}
            Err(e) => return Err(e).with_context(|| format!("closing {url}")),
        }
    }
    progress.finish();
    Ok(sent)
}

/// A WebSocket stream, one statement per text message.
pub struct Stream {
    /// `ws://…` or `wss://…`.
    pub url: Option<String>,
}

impl AsyncBackend for Stream {
    async fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        read(self.url.as_deref(), from.skip, out).await
    }

    async fn write(&self, _: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        Ok(Written {
            count: write(self.url.as_deref(), input).await?,
            place: "sent to the WebSocket".into(),
        })
    }
}
