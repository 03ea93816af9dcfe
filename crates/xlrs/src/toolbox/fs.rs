//! The filesystem backend: statements as JSON lines in files of a directory (`.jsonl`,
//! `.json`, and the same gzipped), as Ralph's `fs` backend keeps them.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use super::lines::decoded;
use super::progress::LineCopy;

/// The files a read covers: `path` itself, or the statement files of a directory by name.
fn files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            [".jsonl", ".json", ".jsonl.gz", ".json.gz"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .collect();
    found.sort();
    Ok(found)
}

fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(decoded(file, path.extension().is_some_and(|e| e == "gz")))
}

/// Writes every statement of `path` (a file or a directory) to `out` as JSON lines, after
/// skipping the first `skip` (to resume a copy). Returns how many were written.
pub fn read(path: &Path, skip: u64, out: &mut dyn Write) -> anyhow::Result<u64> {
    let mut copy = LineCopy::new(skip, "read");
    for file in files(path)? {
        copy.lines(open(&file)?, out, |n| format!("{}:{n}", file.display()))?;
    }
    Ok(copy.finish())
}

/// Writes the JSON lines of `input` into a new file `dir/name` (default
/// `statements-<time>.jsonl`), whole or not at all: a temporary file renamed at the end, and
/// an existing file is never overwritten. Returns the file and the count.
pub fn write(
    dir: &Path,
    name: Option<&str>,
    input: &mut dyn BufRead,
) -> anyhow::Result<(PathBuf, u64)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = name.map_or_else(super::default_name, str::to_string);
    let target = dir.join(&name);
    if target.exists() {
        bail!("{} exists: pick another --target", target.display());
    }
    let partial = dir.join(format!(".{name}.partial"));
    let written = (|| -> anyhow::Result<u64> {
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        let mut file = std::io::BufWriter::new(file);
        let mut copy = LineCopy::new(0, "written");
        copy.lines(input, &mut file, |n| format!("input line {n}"))?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(copy.finish())
    })();
    match written {
        Ok(count) => {
            std::fs::rename(&partial, &target)?;
            Ok((target, count))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// The statement files of a directory, one JSON object each (name, bytes, modified).
pub fn list(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    for file in files(dir)? {
        let meta = std::fs::metadata(&file)?;
        let modified = meta
            .modified()
            .ok()
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let entry: Value = json!({ "name": name, "bytes": meta.len(), "modified": modified });
        writeln!(out, "{entry}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_written_to_a_directory_read_back_in_order_and_resume_after_a_skip() {
        let dir = tempfile::tempdir().unwrap();
        let input = "{\"n\":1}\n\n{\"n\":2}\n{\"n\":3}\n";
        let (file, count) = write(dir.path(), Some("a.jsonl"), &mut input.as_bytes()).unwrap();
        assert_eq!(count, 3);
        assert!(file.ends_with("a.jsonl"));
        let mut out = Vec::new();
        assert_eq!(read(dir.path(), 1, &mut out).unwrap(), 2);
        assert_eq!(String::from_utf8(out).unwrap(), "{\"n\":2}\n{\"n\":3}\n");
        let again = write(dir.path(), Some("a.jsonl"), &mut "{}".as_bytes());
        assert!(again.unwrap_err().to_string().contains("exists"));
    }

    #[test]
    fn a_line_that_is_not_json_fails_the_write_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(dir.path(), Some("b.jsonl"), &mut "{}\nnope\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
