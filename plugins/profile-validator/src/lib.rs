//! `profile-validator` — a validator that checks statements against xAPI Profiles (the JSON-LD
//! documents of the xAPI Profiles specification): each statement template whose determining
//! properties a statement matches must have all its rules followed (`presence`, `any`, `all`,
//! `none`, at JSONPath locations). Profiles are read from the directory the manifest grants.
//!
//! Config: `profiles` (file names in the directory; default every `*.jsonld` and `*.json`
//! there), `scope` (`declared`, the default: a profile applies to statements that declare it
//! with a category context activity — its IRI, a version's IRI or a category `declared_by`
//! names for it; `all`: every profile applies to every statement), `declared_by` (pairs
//! `PROFILE=CATEGORY`, separated by commas or whitespace: more category IRIs that declare a
//! profile, e.g. `https://w3id.org/xapi/cmi5=https://w3id.org/xapi/cmi5/context/categories/cmi5`,
//! the category every cmi5-defined statement carries), and
//! `require_template` (`true`: a statement in a profile's scope that matches none of its
//! templates is rejected too).

pub mod jsonpath;
pub mod profile;

use serde_json::Value;

use profile::Profile;

/// Which statements a profile applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Those declaring it (a category context activity).
    Declared,
    /// Every statement.
    All,
}

/// The plugin's settings, from its `[config]`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Which statements a profile applies to.
    pub scope: Scope,
    /// More category IRIs that declare a profile: (profile IRI, category IRI).
    pub declared_by: Vec<(String, String)>,
    /// Reject a statement in scope that matches none of a profile's templates.
    pub require_template: bool,
}

impl Settings {
    /// Reads the settings from config values (`None` when unset); says what is wrong.
    pub fn from_config(
        scope: Option<&str>,
        declared_by: Option<&str>,
        require_template: Option<&str>,
    ) -> Result<Self, String> {
        let scope = match scope.map(str::trim) {
            None | Some("declared") => Scope::Declared,
            Some("all") => Scope::All,
            Some(other) => return Err(format!("scope `{other}`: use `declared` or `all`")),
        };
        let require_template = match require_template.map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(format!("require_template `{other}`: use true or false")),
        };
        let declared_by = split_list(declared_by.unwrap_or_default())
            .into_iter()
            .map(|pair| match pair.split_once('=') {
                Some((profile, category)) if !profile.is_empty() && !category.is_empty() => {
                    Ok((profile.to_string(), category.to_string()))
                }
                _ => Err(format!("declared_by `{pair}`: write PROFILE=CATEGORY")),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            scope,
            declared_by,
            require_template,
        })
    }
}

/// Items of a config list separated by commas or whitespace.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The statement as the Profiles specification evaluates rules on it (Structure §8.1): each
/// context activity list given as one object (xAPI 1.0.x allows it) made a one-element array,
/// in the statement's context and a SubStatement's.
pub fn normalized(statement: &Value) -> std::borrow::Cow<'_, Value> {
    let singleton = |s: &Value| {
        s["context"]["contextActivities"]
            .as_object()
            .is_some_and(|lists| lists.values().any(Value::is_object))
    };
    if !singleton(statement) && !singleton(&statement["object"]) {
        return std::borrow::Cow::Borrowed(statement);
    }
    let mut copy = statement.clone();
    wrap(&mut copy);
    if copy["object"]["objectType"] == "SubStatement" {
        wrap(&mut copy["object"]);
    }
    std::borrow::Cow::Owned(copy)
}

fn wrap(statement: &mut Value) {
    if let Some(lists) = statement
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    {
        for list in lists.values_mut() {
            if list.is_object() {
                *list = Value::Array(vec![list.take()]);
            }
        }
    }
}

/// Why a statement breaks the profiles in its scope, or None when it follows them.
pub fn check(profiles: &[Profile], settings: &Settings, statement: &Value) -> Option<String> {
    let normal = normalized(statement);
    let statement: &Value = &normal;
    let mut broken = Vec::new();
    for p in profiles {
        let also: Vec<&str> = settings
            .declared_by
            .iter()
            .filter(|(profile, _)| *profile == p.id)
            .map(|(_, category)| category.as_str())
            .collect();
        if settings.scope == Scope::Declared && !p.declared_by(statement, &also) {
            continue;
        }
        let outcome = p.validate(statement);
        if outcome.unmatched() && settings.require_template {
            broken.push(format!(
                "profile {}: matches none of its statement templates",
                p.id
            ));
        }
        broken.extend(
            outcome
                .broken
                .into_iter()
                .map(|why| format!("profile {}: {why}", p.id)),
        );
    }
    (!broken.is_empty()).then(|| broken.join("; "))
}

#[cfg(target_arch = "wasm32")]
mod plugin;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CMI5: &str = include_str!("../../../tests/data/profiles/cmi5.jsonld");

    fn settings(scope: Option<&str>, require: Option<&str>) -> Settings {
        Settings::from_config(
            scope,
            Some("https://w3id.org/xapi/cmi5=https://w3id.org/xapi/cmi5/context/categories/cmi5"),
            require,
        )
        .unwrap()
    }

    #[test]
    fn only_statements_declaring_a_profile_are_checked_unless_the_scope_is_all() {
        let profiles = vec![Profile::parse(CMI5).unwrap()];
        let plain = json!({"actor": {"mbox": "mailto:a@example.org"},
                           "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                           "object": {"id": "http://example.org/a"}});
        assert_eq!(check(&profiles, &settings(None, None), &plain), None);
        let why = check(&profiles, &settings(Some("all"), None), &plain).unwrap();
        assert!(
            why.starts_with("profile https://w3id.org/xapi/cmi5: template "),
            "{why}"
        );
        assert!(why.contains("$.timestamp is required"), "{why}");
    }

    #[test]
    fn require_template_rejects_a_statement_in_scope_that_matches_no_template() {
        let video =
            Profile::parse(include_str!("../../../tests/data/profiles/video.jsonld")).unwrap();
        let s = json!({"actor": {"mbox": "mailto:a@example.org"},
                       "verb": {"id": "http://example.org/verbs/liked"},
                       "object": {"id": "http://example.org/a"},
                       "context": {"contextActivities": {"category": [{"id": "https://w3id.org/xapi/video/v1.0.3"}]}}});
        let profiles = vec![video];
        assert_eq!(check(&profiles, &settings(None, None), &s), None);
        assert_eq!(
            check(&profiles, &settings(None, Some("true")), &s).as_deref(),
            Some("profile https://w3id.org/xapi/video: matches none of its statement templates")
        );
    }

    #[test]
    fn a_context_activity_given_as_one_object_is_evaluated_as_a_one_element_list() {
        let profiles = vec![Profile::parse(CMI5).unwrap()];
        let mut s: Value = serde_json::from_str(include_str!(
            "../../../tests/data/profiles/cmi5-passed.json"
        ))
        .unwrap();
        s["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/initialized");
        s.as_object_mut().unwrap().remove("result");
        // xAPI 1.0.3 allows a single object; cmi5's `none: [moveon]` must still see it.
        s["context"]["contextActivities"]["category"] =
            json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"});
        let also = settings(Some("all"), None);
        let why = check(&profiles, &also, &s).expect("the moveon category is refused");
        assert!(why.contains("must not be"), "{why}");
    }

    #[test]
    fn unknown_settings_are_refused_naming_the_value() {
        assert!(Settings::from_config(Some("some"), None, None)
            .unwrap_err()
            .contains("some"));
        assert!(Settings::from_config(None, None, Some("yes"))
            .unwrap_err()
            .contains("yes"));
        let e =
            Settings::from_config(None, Some("https://example.org/category"), None).unwrap_err();
        assert!(e.contains("PROFILE=CATEGORY"), "{e}");
    }
}
