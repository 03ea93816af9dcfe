//! JSONPath as the xAPI Profiles specification constrains it (Structure §9.4, after Goessner):
//! child names (`.name`, `['name']`, `["name"]`), array indexes (`[0]`), the wildcard (`.*`,
//! `[*]`), unions inside brackets (`['a','b']`, `[0,1]`) and of whole paths joined with `|`.
//! Filter and script expressions are not allowed by the specification; recursive descent
//! (`..`) is refused too. A path without the leading `$` (seen in published profiles:
//! `timestamp`, `result.response`) is read from the statement's root.

use serde_json::Value;

/// What one bracket or dot step selects among a value's children.
#[derive(Debug, Clone, PartialEq)]
enum Selector {
    Name(String),
    Index(usize),
    Wildcard,
}

/// A parsed JSONPath: alternatives (joined by `|`), each a sequence of steps.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    alternatives: Vec<Vec<Vec<Selector>>>,
}

impl JsonPath {
    /// Parses `text`, or says what is not allowed in it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let alternatives = split_pipes(text)
            .into_iter()
            .map(|part| parse_one(part.trim()).map_err(|e| format!("JSONPath `{text}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { alternatives })
    }

    /// Every value the path finds in `root`, in document order per alternative.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut found = Vec::new();
        for steps in &self.alternatives {
            let mut current = vec![root];
            for selectors in steps {
                let mut next = Vec::new();
                for value in current {
                    for selector in selectors {
                        select(value, selector, &mut next);
                    }
                }
                current = next;
            }
            found.extend(current);
        }
        found
    }
}

fn select<'a>(value: &'a Value, selector: &Selector, out: &mut Vec<&'a Value>) {
    match (selector, value) {
        (Selector::Name(name), Value::Object(map)) => out.extend(map.get(name)),
        (Selector::Index(i), Value::Array(items)) => out.extend(items.get(*i)),
        (Selector::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Selector::Wildcard, Value::Array(items)) => out.extend(items.iter()),
        _ => {}
    }
}

/// Splits on `|` outside brackets (and the quoted names inside them, with their escapes).
fn split_pipes(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut escaped, mut start) = (0usize, None::<char>, false, 0usize);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') if depth > 0 => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '|') if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_one(text: &str) -> Result<Vec<Vec<Selector>>, String> {
    if text.is_empty() {
        return Err("an empty path".into());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut steps = Vec::new();
    if chars[0] == '$' {
        i = 1;
    } else if chars[0] == '*' {
        steps.push(vec![Selector::Wildcard]);
        i = 1;
    } else if chars[0] != '.' && chars[0] != '[' {
        // `timestamp`, `result.response`: a first child name without `$.`.
        let (name, end) = name_at(&chars, 0);
        steps.push(vec![Selector::Name(name)]);
        i = end;
    }
    while i < chars.len() {
        match chars[i] {
            '.' if chars.get(i + 1) == Some(&'.') => {
                return Err("recursive descent (`..`) is not supported".into())
            }
            '.' if chars.get(i + 1) == Some(&'*') => {
                steps.push(vec![Selector::Wildcard]);
                i += 2;
            }
            '.' => {
                let (name, end) = name_at(&chars, i + 1);
                if name.is_empty() {
                    return Err(format!("a `.` without a name at {i}"));
                }
                steps.push(vec![Selector::Name(name)]);
                i = end;
            }
            '[' => {
                let (selectors, end) = bracket_at(&chars, i + 1)?;
                steps.push(selectors);
                i = end;
            }
            c => return Err(format!("unexpected `{c}` at {i}")),
        }
    }
    Ok(steps)
}

/// A dot-notation name starting at `start`: up to the next `.` or `[`.
fn name_at(chars: &[char], start: usize) -> (String, usize) {
    let end = (start..chars.len())
        .find(|&j| chars[j] == '.' || chars[j] == '[')
        .unwrap_or(chars.len());
    (chars[start..end].iter().collect(), end)
}

/// A quoted name whose text starts at `start` and ends at the next unescaped `quote`
/// (a backslash escapes the next character); returns it and the index after the quote.
fn quoted_at(chars: &[char], start: usize, quote: char) -> Result<(String, usize), String> {
    let mut name = String::new();
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => {
                let escaped = chars.get(i + 1).ok_or("a `\\` at the end of a string")?;
                name.push(*escaped);
                i += 2;
            }
            c if c == quote => return Ok((name, i + 1)),
            c => {
                name.push(c);
                i += 1;
            }
        }
    }
    Err(format!("an unclosed string at {}", start.saturating_sub(1)))
}

/// The selectors of a bracket whose content starts at `start`; returns them and the index
/// after the closing `]`.
fn bracket_at(chars: &[char], start: usize) -> Result<(Vec<Selector>, usize), String> {
    let mut selectors = Vec::new();
    let mut i = start;
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        match chars.get(i) {
            Some(&q @ ('\'' | '"')) => {
                let (name, end) = quoted_at(chars, i + 1, q)?;
                selectors.push(Selector::Name(name));
                i = end;
            }
            Some('*') => {
                selectors.push(Selector::Wildcard);
                i += 1;
            }
            Some(c) if c.is_ascii_digit() => {
                let end = (i..chars.len())
                    .find(|&j| !chars[j].is_ascii_digit())
                    .unwrap_or(chars.len());
                let digits: String = chars[i..end].iter().collect();
                let index = digits
                    .parse()
                    .map_err(|_| format!("index `{digits}` is too large"))?;
                selectors.push(Selector::Index(index));
                i = end;
            }
            Some('?' | '(') => return Err("filter and script expressions are not allowed".into()),
            Some(c) => return Err(format!("unexpected `{c}` in brackets at {i}")),
            None => return Err("an unclosed `[`".into()),
        }
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        match chars.get(i) {
            Some(',') => i += 1,
            Some(']') => return Ok((selectors, i + 1)),
            Some(c) => return Err(format!("unexpected `{c}` in brackets at {i}")),
            None => return Err("an unclosed `[`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(path: &str, doc: &Value) -> Vec<Value> {
        JsonPath::parse(path)
            .unwrap()
            .find(doc)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn child_names_in_dot_and_bracket_notation_reach_iri_keyed_extensions() {
        let s = json!({"context": {"extensions": {"https://w3id.org/x/sessionid": "s1"}}});
        assert_eq!(
            find("$.context.extensions['https://w3id.org/x/sessionid']", &s),
            vec![json!("s1")]
        );
        assert_eq!(
            find("$.context.extensions[\"https://w3id.org/x/sessionid\"]", &s),
            vec![json!("s1")]
        );
        assert!(find("$.context.extensions['https://w3id.org/x/other']", &s).is_empty());
    }

    #[test]
    fn wildcards_indexes_and_unions_gather_every_value() {
        let s = json!({"a": [{"id": "x"}, {"id": "y"}, {"n": 1}], "b": 2});
        assert_eq!(find("$.a[*].id", &s), vec![json!("x"), json!("y")]);
        assert_eq!(find("$.a[1].id", &s), vec![json!("y")]);
        assert_eq!(find("$.a[0,2]", &s).len(), 2);
        assert_eq!(find("$.a[0].id | $.b", &s), vec![json!("x"), json!(2)]);
        assert_eq!(find("$.*", &s).len(), 2);
    }

    #[test]
    fn a_path_without_the_root_sign_starts_at_the_root() {
        let s = json!({"result": {"response": "r"}, "timestamp": "t"});
        assert_eq!(find("result.response", &s), vec![json!("r")]);
        assert_eq!(find("timestamp", &s), vec![json!("t")]);
    }

    #[test]
    fn quoted_names_may_escape_their_quote_and_brackets_may_hold_any_white_space() {
        let s = json!({"ext": {"it's": 1, "a\"b": 2}});
        assert_eq!(find("$.ext['it\\'s']", &s), vec![json!(1)]);
        assert_eq!(find("$.ext[\t\"a\\\"b\"\n]", &s), vec![json!(2)]);
        assert_eq!(find("*", &s).len(), 1);
    }

    #[test]
    fn filters_and_recursive_descent_are_refused() {
        assert!(JsonPath::parse("$.a[?(@.b)]")
            .unwrap_err()
            .contains("filter"));
        assert!(JsonPath::parse("$..id").unwrap_err().contains("recursive"));
        assert!(JsonPath::parse("$.a['b'").is_err());
    }
}
