//! A statement counter on the terminal (indicatif), silent when stderr is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Counts statements moved, with a rate, on stderr when it is a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A counter labelled with what is done (`read`, `written`).
    pub fn new(what: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            let template =
                format!("{{spinner}} {{human_pos}} statements {what} ({{per_sec}}) {{elapsed}}");
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self { bar }
    }

    /// Adds `n` statements.
    pub fn add(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Clears the line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Statements passing through a read or a write: blank lines and the first `skip` left out
/// (to resume), each checked to be JSON, written to the output and counted.
pub struct LineCopy {
    skip: u64,
    seen: u64,
    written: u64,
    progress: Progress,
}

impl LineCopy {
    /// A copy that leaves out the first `skip` statements; `what` labels the progress
    /// (`read`, `written`).
    pub fn new(skip: u64, what: &str) -> Self {
        Self {
            skip,
            seen: 0,
            written: 0,
            progress: Progress::new(what),
        }
    }

    /// Takes one line; `place` names where it came from, for the error when it is not JSON.
    pub fn line(
        &mut self,
        line: &str,
        out: &mut dyn std::io::Write,
        place: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        let text = line.trim();
        if text.is_empty() {
            return Ok(());
        }
        self.seen += 1;
        if self.seen <= self.skip {
            return Ok(());
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            anyhow::bail!("{}: not a JSON statement", place());
        }
        writeln!(out, "{text}")?;
        self.written += 1;
        self.progress.add(1);
        Ok(())
    }

    /// Takes every line of `input`; `place(n)` names its line `n` (from 1) in errors.
    pub fn lines(
        &mut self,
        input: impl std::io::BufRead,
        out: &mut dyn std::io::Write,
        place: impl Fn(usize) -> String,
    ) -> anyhow::Result<()> {
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| anyhow::anyhow!("reading {}: {e}", place(i + 1)))?;
            self.line(&line, out, || place(i + 1))?;
        }
        Ok(())
    }

    /// Ends the copy; how many statements were written.
    pub fn finish(self) -> u64 {
        self.progress.finish();
        self.written
    }
}
