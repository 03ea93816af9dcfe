//! JSON-lines input as every toolbox command reads it: the non-empty lines with their 1-based
//! numbers (for error messages), one by one or in batches.

use std::io::{BufRead, BufReader, Read};

/// `input` to read by lines, gunzipped when `gzipped`.
pub fn decoded(input: impl Read + 'static, gzipped: bool) -> Box<dyn BufRead> {
    if gzipped {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(input)))
    } else {
        Box::new(BufReader::new(input))
    }
}

/// A non-empty input line and its number.
pub type Numbered = std::io::Result<(usize, String)>;

/// The non-empty lines of `input`, each with its line number.
pub fn numbered(input: impl BufRead) -> impl Iterator<Item = Numbered> {
    input
        .lines()
        .enumerate()
        .filter_map(|(i, line)| match line {
            Ok(l) if l.trim().is_empty() => None,
            Ok(l) => Some(Ok((i + 1, l))),
            Err(e) => Some(Err(e)),
        })
}

/// The non-empty lines of `input` with their numbers, in batches of at most `size` (≥ 1).
pub fn batches(
    input: impl BufRead,
    size: usize,
) -> impl Iterator<Item = std::io::Result<Vec<(usize, String)>>> {
    let mut lines = numbered(input);
    let size = size.max(1);
    std::iter::from_fn(move || {
        let mut batch = Vec::with_capacity(size);
        for line in lines.by_ref() {
            match line {
                Ok(numbered) => batch.push(numbered),
                Err(e) => return Some(Err(e)),
            }
            if batch.len() == size {
                break;
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    })
}

/// Statements read from an input, each checked to be JSON, and kept in a temporary file before
/// any is sent: a message stream (GELF, WebSocket) cannot take back what it received, so an
/// invalid line must stop the copy before the first message goes out.
pub struct Checked {
    file: std::fs::File,
    path: std::path::PathBuf,
    /// How many statements were kept.
    pub count: u64,
}

impl Checked {
    /// Reads and checks every line of `input`; fails on the first line that is not JSON.
    pub fn take(input: &mut dyn BufRead) -> anyhow::Result<Self> {
        use anyhow::Context;
        let path =
            std::env::temp_dir().join(format!("xlrs-checked-{}.jsonl", uuid::Uuid::new_v4()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        let mut checked = Self {
            file,
            path,
            count: 0,
        };
        let mut copy = super::progress::LineCopy::new(0, "checked");
        let mut out = std::io::BufWriter::new(&checked.file);
        copy.lines(input, &mut out, |n| format!("input line {n}"))?;
        std::io::Write::flush(&mut out)?;
        drop(out);
        checked.count = copy.finish();
        Ok(checked)
    }

    /// The kept statements, one per item, from the first.
    pub fn lines(&mut self) -> std::io::Result<impl Iterator<Item = std::io::Result<String>> + '_> {
        use std::io::Seek;
        self.file.rewind()?;
        Ok(std::io::BufReader::new(&self.file).lines())
    }
}

impl Drop for Checked {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_are_left_out_and_numbers_count_every_line() {
        let input = "a\n\nb\n  \nc\nd\ne\n";
        let got: Vec<Vec<(usize, String)>> =
            batches(input.as_bytes(), 2).map(Result::unwrap).collect();
        let numbers: Vec<Vec<usize>> = got
            .iter()
            .map(|b| b.iter().map(|(n, _)| *n).collect())
            .collect();
        assert_eq!(numbers, vec![vec![1, 3], vec![5, 6], vec![7]]);
        assert_eq!(got[0][1].1, "b");
    }

    #[test]
    fn checked_input_is_kept_whole_and_an_invalid_line_keeps_nothing() {
        let mut checked = Checked::take(&mut "{\"n\":1}\n\n{\"n\":2}\n".as_bytes()).unwrap();
        assert_eq!(checked.count, 2);
        let lines: Vec<String> = checked.lines().unwrap().map(Result::unwrap).collect();
        assert_eq!(lines, ["{\"n\":1}", "{\"n\":2}"]);
        let err = Checked::take(&mut "{}\nnope\n".as_bytes()).err().unwrap();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
