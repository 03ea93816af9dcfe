//! An xAPI Profile's statement templates, and the validation of a statement against them as
//! the xAPI Profiles specification (Communication §2.1, "Statement Template Validation") gives
//! it: the templates whose determining properties a statement matches, and for each the rules
//! it breaks.

use serde_json::Value;

use crate::jsonpath::JsonPath;

/// A rule's `presence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Included,
    Excluded,
    Recommended,
}

/// One statement template rule.
#[derive(Debug)]
struct Rule {
    location_text: String,
    location: JsonPath,
    selector: Option<JsonPath>,
    presence: Option<Presence>,
    any: Option<Vec<Value>>,
    all: Option<Vec<Value>>,
    none: Option<Vec<Value>>,
}

/// One statement template: determining properties and rules.
#[derive(Debug)]
struct Template {
    id: String,
    verb: Option<String>,
    object_activity_type: Option<String>,
    /// (context activity list, activity types every one of which must be among its types).
    context_types: Vec<(&'static str, Vec<String>)>,
    attachment_usage_types: Vec<String>,
    object_statement_ref: bool,
    context_statement_ref: bool,
    rules: Vec<Rule>,
}

/// A profile: its IRI, its versions' IRIs and its statement templates.
#[derive(Debug)]
pub struct Profile {
    /// The profile's IRI.
    pub id: String,
    /// Its versions' IRIs.
    pub versions: Vec<String>,
    templates: Vec<Template>,
}

/// What validating one statement against a profile found.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// Templates the statement matched and follows.
    pub followed: Vec<String>,
    /// Why it breaks each template it matched but does not follow (one line per rule).
    pub broken: Vec<String>,
}

impl Outcome {
    /// True when no template matched the statement (the specification's `unmatched`).
    pub fn unmatched(&self) -> bool {
        self.followed.is_empty() && self.broken.is_empty()
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn values(rule: &Value, key: &str) -> Result<Option<Vec<Value>>, String> {
    match rule.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(_) => Err(format!("`{key}` is not an array")),
    }
}

impl Rule {
    fn parse(v: &Value) -> Result<Self, String> {
        let location_text = v["location"]
            .as_str()
            .ok_or("a rule without a `location`")?
            .to_string();
        let location = JsonPath::parse(&location_text)?;
        let selector = match v.get("selector").and_then(Value::as_str) {
            Some(s) => Some(JsonPath::parse(s)?),
            None => None,
        };
        let presence = match v.get("presence").and_then(Value::as_str) {
            None => None,
            Some("included") => Some(Presence::Included),
            Some("excluded") => Some(Presence::Excluded),
            Some("recommended") => Some(Presence::Recommended),
            Some(other) => return Err(format!("rule {location_text}: presence `{other}`")),
        };
        Ok(Self {
            location_text,
            location,
            selector,
            presence,
            any: values(v, "any")?,
            all: values(v, "all")?,
            none: values(v, "none")?,
        })
    }

    /// Why `statement` breaks this rule, or None when it follows it (`follows_rule`).
    fn broken_by(&self, statement: &Value) -> Option<String> {
        let located = self.location.find(statement);
        // None stands for the specification's UNMATCHABLE (a selector that found nothing).
        let evaluated: Vec<Option<&Value>> = match &self.selector {
            None => located.into_iter().map(Some).collect(),
            Some(selector) => located
                .into_iter()
                .flat_map(|v| {
                    let selected = selector.find(v);
                    if selected.is_empty() {
                        vec![None]
                    } else {
                        selected.into_iter().map(Some).collect()
                    }
                })
                .collect(),
        };
        let at = &self.location_text;
        let unmatchable = evaluated.iter().any(Option::is_none);
        let matchable: Vec<&Value> = evaluated.iter().flatten().copied().collect();
        let mut strict = true;
        match self.presence {
            Some(Presence::Included) if unmatchable || evaluated.is_empty() => {
                return Some(format!("{at} is required (presence included) and missing"));
            }
            Some(Presence::Excluded) if !matchable.is_empty() => {
                return Some(format!("{at} must be absent (presence excluded)"));
            }
            Some(Presence::Recommended) => strict = false,
            _ => {}
        }
        let checked = strict || !evaluated.is_empty();
        if let (Some(any), true) = (&self.any, checked) {
            if !matchable.iter().any(|v| contains(any, v)) {
                return Some(format!("{at} must include one of {}", list(any)));
            }
        }
        if let (Some(all), true) = (&self.all, checked) {
            if unmatchable {
                return Some(format!("{at} has a value without the selected property"));
            }
            if let Some(v) = matchable.iter().find(|v| !contains(all, v)) {
                return Some(format!("{at} is {v}, not one of {}", list(all)));
            }
        }
        if let (Some(none), true) = (&self.none, checked) {
            if let Some(v) = matchable.iter().find(|v| contains(none, v)) {
                return Some(format!("{at} must not be {v}"));
            }
        }
        None
    }
}

/// JSON equality, numbers compared by value (`1` and `1.0` are the same number).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

fn contains(values: &[Value], v: &Value) -> bool {
    values.iter().any(|x| same(x, v))
}

fn list(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", shown.join(", "))
}

/// The `type` of each activity in `context.contextActivities.<which>` (an array, or one
/// activity object as xAPI 1.0.x allows).
fn context_activity_types<'a>(statement: &'a Value, which: &str) -> Vec<&'a str> {
    let list = &statement["context"]["contextActivities"][which];
    let activities: Vec<&Value> = match list {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![list],
        _ => Vec::new(),
    };
    activities
        .into_iter()
        .filter_map(|a| a["definition"]["type"].as_str())
        .collect()
}

impl Template {
    fn parse(v: &Value) -> Result<Self, String> {
        let id = v["id"]
            .as_str()
            .ok_or("a statement template without an `id`")?
            .to_string();
        let rules = v
            .get("rules")
            .and_then(Value::as_array)
            .map(|rules| rules.iter().map(Rule::parse).collect::<Result<Vec<_>, _>>())
            .transpose()
            .map_err(|e| format!("template {id}: {e}"))?
            .unwrap_or_default();
        let context_types = [
            ("grouping", "contextGroupingActivityType"),
            ("parent", "contextParentActivityType"),
            ("other", "contextOtherActivityType"),
            ("category", "contextCategoryActivityType"),
        ]
        .into_iter()
        .map(|(which, key)| (which, strings(&v[key])))
        .filter(|(_, types)| !types.is_empty())
        .collect();
        Ok(Self {
            verb: v["verb"].as_str().map(str::to_string),
            object_activity_type: v["objectActivityType"].as_str().map(str::to_string),
            context_types,
            attachment_usage_types: strings(&v["attachmentUsageType"]),
            object_statement_ref: v.get("objectStatementRefTemplate").is_some(),
            context_statement_ref: v.get("contextStatementRefTemplate").is_some(),
            rules,
            id,
        })
    }

    /// `matches_determining_properties`: each given property equals, or is a subset of, what
    /// the statement has.
    fn matches(&self, s: &Value) -> bool {
        if let Some(verb) = &self.verb {
            if s["verb"]["id"].as_str() != Some(verb) {
                return false;
            }
        }
        if let Some(t) = &self.object_activity_type {
            if s["object"]["definition"]["type"].as_str() != Some(t) {
                return false;
            }
        }
        for (which, types) in &self.context_types {
            let present = context_activity_types(s, which);
            if !types.iter().all(|t| present.contains(&t.as_str())) {
                return false;
            }
        }
        if !self.attachment_usage_types.is_empty() {
            let present: Vec<&str> = s["attachments"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x["usageType"].as_str()).collect())
                .unwrap_or_default();
            if !self
                .attachment_usage_types
                .iter()
                .all(|t| present.contains(&t.as_str()))
            {
                return false;
            }
        }
        true
    }

    /// `follows_rules`: why the statement breaks this template (empty when it follows it).
    /// A StatementRef template's target is not looked up (the specification checks it only
    /// when the referenced statement is "available to the checking system"); the reference
    /// itself must be there.
    fn broken_by(&self, s: &Value) -> Vec<String> {
        let mut broken = Vec::new();
        if self.object_statement_ref && s["object"]["objectType"] != "StatementRef" {
            broken.push("the object must be a StatementRef".to_string());
        }
        if self.context_statement_ref && s["context"]["statement"]["objectType"] != "StatementRef" {
            broken.push("context.statement must be a StatementRef".to_string());
        }
        broken.extend(self.rules.iter().filter_map(|r| r.broken_by(s)));
        broken
    }
}

impl Profile {
    /// Reads a profile document (JSON-LD, as published).
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        if v["type"] != "Profile" {
            return Err("not an xAPI Profile (its `type` is not \"Profile\")".into());
        }
        let id = v["id"]
            .as_str()
            .ok_or("a profile without an `id`")?
            .to_string();
        let versions = v["versions"]
            .as_array()
            .map(|vs| {
                vs.iter()
                    .filter_map(|x| x["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let templates = v["templates"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(Template::parse)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(|e| format!("profile {id}: {e}"))?
            .unwrap_or_default();
        Ok(Self {
            id,
            versions,
            templates,
        })
    }

    /// How many statement templates it has.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    /// Whether the statement says it follows this profile: a category context activity whose
    /// id is the profile's IRI, one of its versions', or one of `also` (the xAPI Profiles
    /// specification asks producers to declare the version this way).
    pub fn declared_by(&self, s: &Value, also: &[&str]) -> bool {
        let list = &s["context"]["contextActivities"]["category"];
        let ids: Vec<&str> = match list {
            Value::Array(items) => items.iter().filter_map(|a| a["id"].as_str()).collect(),
            Value::Object(_) => list["id"].as_str().into_iter().collect(),
            _ => Vec::new(),
        };
        ids.iter().any(|id| {
            *id == self.id || self.versions.iter().any(|v| v == id) || also.iter().any(|a| a == id)
        })
    }

    /// Validates a statement against every template (`validates`).
    pub fn validate(&self, s: &Value) -> Outcome {
        let mut outcome = Outcome::default();
        for template in self.templates.iter().filter(|t| t.matches(s)) {
            let broken = template.broken_by(s);
            if broken.is_empty() {
                outcome.followed.push(template.id.clone());
            } else {
                outcome.broken.extend(
                    broken
                        .into_iter()
                        .map(|why| format!("template {}: {why}", template.id)),
                );
            }
        }
        outcome
    }
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
