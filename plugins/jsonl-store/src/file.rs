//! The statements file: opened in the granted directory, read whole, appended to in one write
//! followed by `sync_data`; and reading the fields of its JSON lines.

use serde_json::Value;
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

/// Bytes read per call when loading the file.
const CHUNK: u64 = 1 << 20;

/// Why the file could not be used.
pub enum Fault {
    /// Not now (no directory granted, the file cannot be opened).
    Unavailable(String),
    /// Anything else.
    Failure(String),
}

/// The statements file, opened for reading and writing.
pub fn open(config: Option<String>) -> Result<Descriptor, Fault> {
    let (dir, _) = get_directories()
        .into_iter()
        .find(|(_, path)| path == "/data")
        .ok_or_else(|| Fault::Unavailable("no directory granted: set [capabilities] dir".into()))?;
    let name = config.unwrap_or_else(|| "statements.jsonl".into());
    dir.open_at(
        PathFlags::empty(),
        &name,
        OpenFlags::CREATE,
        DescriptorFlags::READ | DescriptorFlags::WRITE,
    )
    .map_err(|e| Fault::Unavailable(format!("cannot open /data/{name}: {e:?}")))
}

/// A file error as a failure saying what was being done.
pub fn io(what: &str) -> impl FnOnce(ErrorCode) -> Fault + '_ {
    move |e| Fault::Failure(format!("{what}: {e:?}"))
}

/// The file's size.
pub fn size(file: &Descriptor) -> Result<u64, Fault> {
    Ok(file.stat().map_err(io("reading the file's size"))?.size)
}

/// Reads the whole file; returns its complete lines and the length they cover (a torn last
/// line, without its newline, is left out).
pub fn read_lines(file: &Descriptor) -> Result<(Vec<u8>, u64), Fault> {
    let mut bytes = Vec::new();
    loop {
        let (chunk, end) = file
            .read(CHUNK, bytes.len() as u64)
            .map_err(io("reading the statements file"))?;
        bytes.extend_from_slice(&chunk);
        if end || chunk.is_empty() {
            break;
        }
    }
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    bytes.truncate(complete);
    Ok((bytes, complete as u64))
}

/// Cuts a torn line left by a crash (the file is `len` long where its last whole line ends),
/// then appends `out` in one write and syncs it.
pub fn append(file: &Descriptor, len: u64, out: &str) -> Result<(), Fault> {
    file.set_size(len).map_err(io("truncating a torn line"))?;
    let mut written = 0usize;
    while written < out.len() {
        let n = file
            .write(&out.as_bytes()[written..], len + written as u64)
            .map_err(io("appending"))?;
        written += n as usize;
    }
    file.sync_data().map_err(io("syncing"))
}

/// A string field of a line (empty when absent).
pub fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// An optional string field of a line.
pub fn optional(v: &Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_string)
}

/// Index keys as a line keeps them: `[[key, direct], …]`.
pub fn pairs(v: &Value) -> Vec<(String, bool)> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|k| Some((k[0].as_str()?.to_string(), k[1].as_bool()?)))
                .collect()
        })
        .unwrap_or_default()
}
