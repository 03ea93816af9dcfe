//! JSON-lines input as every toolbox command reads it: the non-empty lines with their 1-based
//! numbers (for error messages), one by one or in batches.

use std::io::BufRead;

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
}
