//! A plugin's standard error, kept in memory (its last few KiB) so that when a call fails the
//! failure can say what the guest printed before it died: Python's traceback, an uncaught
//! JavaScript exception, a C program's message.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How much of the end of a call's standard error is kept.
const KEPT: usize = 4096;

/// The end of what a call wrote to standard error; writes never fail, older bytes are dropped.
#[derive(Clone, Default)]
pub struct StderrTail {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl StderrTail {
    fn push(&self, bytes: &[u8]) {
        let Ok(mut buffer) = self.buffer.lock() else {
            return;
        };
        buffer.extend_from_slice(bytes);
        if buffer.len() > KEPT {
            let cut = buffer.len() - KEPT;
            buffer.drain(..cut);
        }
    }

    /// Forgets what was written (a new call begins on the same instance).
    pub fn clear(&self) {
        if let Ok(mut buffer) = self.buffer.lock() {
            buffer.clear();
        }
    }

    /// The last non-empty lines written, up to `max` characters (see [`last_words`]).
    pub fn last_words(&self, max: usize) -> Option<String> {
        let buffer = self.buffer.lock().ok()?;
        last_words(&String::from_utf8_lossy(&buffer), max)
    }
}

/// The last non-empty lines of `text`, up to `max` characters, joined with ` | ` (what a
/// failing plugin said, on one line); None when there are none.
pub fn last_words(text: &str, max: usize) -> Option<String> {
    let mut words: Vec<&str> = Vec::new();
    let mut length = 0;
    for line in text.lines().rev().map(str::trim).filter(|l| !l.is_empty()) {
        if length + line.len() > max && !words.is_empty() {
            break;
        }
        length += line.len() + 3;
        words.push(line);
    }
    if words.is_empty() {
        return None;
    }
    words.reverse();
    let mut joined = words.join(" | ");
    if joined.len() > max {
        let start = joined.len() - max;
        let start = (start..joined.len())
            .find(|&i| joined.is_char_boundary(i))
            .unwrap_or(joined.len());
        joined = format!("…{}", &joined[start..]);
    }
    Some(joined)
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for StderrTail {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(KEPT)
    }
}

#[async_trait::async_trait]
impl Pollable for StderrTail {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lines_of_a_traceback_are_the_last_words() {
        let tail = StderrTail::default();
        tail.push(b"Traceback (most recent call last):\n  File \"plugin.py\", line 4\n");
        tail.push(b"ValueError: boom\n\n");
        assert_eq!(
            tail.last_words(50).as_deref(),
            Some("File \"plugin.py\", line 4 | ValueError: boom")
        );
    }

    #[test]
    fn nothing_written_is_no_last_words_and_only_the_end_is_kept() {
        let tail = StderrTail::default();
        assert_eq!(tail.last_words(100), None);
        tail.push(&vec![b'x'; 3 * KEPT]);
        tail.push(b"\nend");
        assert_eq!(tail.buffer.lock().unwrap().len(), KEPT);
        assert_eq!(tail.last_words(10).as_deref(), Some("end"));
    }
}
