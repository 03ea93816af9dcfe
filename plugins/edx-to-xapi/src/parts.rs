//! What a converter decides for one event (object, result, extra context), before the
//! common parts (id, actor, timestamp, context) are added by [`crate::statement`].
//!
//! Absent values are left out when written; empty extension maps are kept, as tincan does.

use serde_json::{Map, Value};

use crate::options::lookup;
use crate::vocab::TYPE_COURSE;
use crate::Options;

/// An activity (the object, or a context activity).
#[derive(Debug, Clone, Default)]
pub(crate) struct Activity {
    /// Its IRI; ERB leaves it out when it cannot make one.
    pub id: Option<String>,
    /// Written as `objectType: "GroupActivity"` (a problem with several questions).
    pub group: bool,
    /// `definition.type`.
    pub kind: &'static str,
    /// `definition.name`, as (language, text).
    pub name: Option<(&'static str, String)>,
    /// `definition.description`, as (language, text).
    pub description: Option<(&'static str, String)>,
    /// `definition.interactionType`.
    pub interaction_type: Option<&'static str>,
    /// `definition.extensions`, when the converter sets them (absent values are dropped).
    pub extensions: Option<Vec<(&'static str, Option<Value>)>>,
}

impl Activity {
    /// An activity of type `kind` with the given id.
    pub(crate) fn new(id: Option<String>, kind: &'static str) -> Self {
        Activity {
            id,
            kind,
            ..Activity::default()
        }
    }

    /// Sets `definition.name` to `{language: text}` when there is a text.
    pub(crate) fn named(mut self, language: &'static str, text: Option<&str>) -> Self {
        self.name = text.map(|t| (language, t.to_string()));
        self
    }

    /// Sets `definition.extensions`.
    pub(crate) fn with_extensions(
        mut self,
        extensions: Vec<(&'static str, Option<Value>)>,
    ) -> Self {
        self.extensions = Some(extensions);
        self
    }

    /// The activity as JSON.
    pub(crate) fn to_json(&self) -> Value {
        let mut definition = Map::new();
        let language_map = |(language, text): &(&str, String)| {
            let mut map = Map::new();
            map.insert((*language).to_string(), Value::String(text.clone()));
            Value::Object(map)
        };
        if let Some(name) = &self.name {
            definition.insert("name".into(), language_map(name));
        }
        if let Some(description) = &self.description {
            definition.insert("description".into(), language_map(description));
        }
        definition.insert("type".into(), Value::String(self.kind.into()));
        if let Some(interaction) = self.interaction_type {
            definition.insert("interactionType".into(), Value::String(interaction.into()));
        }
        if let Some(extensions) = &self.extensions {
            definition.insert("extensions".into(), extension_map(extensions));
        }
        let mut activity = Map::new();
        if let Some(id) = &self.id {
            activity.insert("id".into(), Value::String(id.clone()));
        }
        let object_type = if self.group {
            "GroupActivity"
        } else {
            "Activity"
        };
        activity.insert("objectType".into(), Value::String(object_type.into()));
        activity.insert("definition".into(), Value::Object(definition));
        Value::Object(activity)
    }
}

/// An extension map without its absent values.
pub(crate) fn extension_map(entries: &[(&'static str, Option<Value>)]) -> Value {
    Value::Object(
        entries
            .iter()
            .filter_map(|(key, value)| Some(((*key).to_string(), value.clone()?)))
            .collect(),
    )
}

/// A `result`, built member by member.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// `score` as (scaled, raw, min, max), each optional.
    pub score: Option<[Option<f64>; 4]>,
    /// `success`.
    pub success: Option<bool>,
    /// `completion`.
    pub completion: Option<bool>,
    /// `duration` (ISO 8601).
    pub duration: Option<String>,
    /// `response`.
    pub response: Option<String>,
    /// `extensions`.
    pub extensions: Option<Vec<(&'static str, Option<Value>)>>,
}

impl Outcome {
    /// The result as JSON.
    pub(crate) fn to_json(&self) -> Value {
        let mut result = Map::new();
        if let Some(score) = &self.score {
            let mut map = Map::new();
            for (key, value) in ["scaled", "raw", "min", "max"].iter().zip(score) {
                if let Some(number) = value.and_then(serde_json::Number::from_f64) {
                    map.insert((*key).to_string(), Value::Number(number));
                }
            }
            result.insert("score".into(), Value::Object(map));
        }
        if let Some(success) = self.success {
            result.insert("success".into(), Value::Bool(success));
        }
        if let Some(completion) = self.completion {
            result.insert("completion".into(), Value::Bool(completion));
        }
        if let Some(duration) = &self.duration {
            result.insert("duration".into(), Value::String(duration.clone()));
        }
        if let Some(response) = &self.response {
            result.insert("response".into(), Value::String(response.clone()));
        }
        if let Some(extensions) = &self.extensions {
            result.insert("extensions".into(), extension_map(extensions));
        }
        Value::Object(result)
    }
}

/// A further statement about one question of a multi-question problem (ERB's "child").
#[derive(Debug, Clone)]
pub(crate) struct Child {
    /// The question's key in the submission (part of the statement id).
    pub key: String,
    /// The question.
    pub object: Activity,
    /// The learner's answer.
    pub result: Outcome,
}

/// Everything a converter contributes to the statement(s) of one event.
#[derive(Debug, Clone)]
pub(crate) struct Parts {
    /// The object.
    pub object: Activity,
    /// The result, if any.
    pub result: Option<Outcome>,
    /// Context extensions after the transformer version and session id.
    pub extensions: Vec<(&'static str, Option<Value>)>,
    /// `context.contextActivities.grouping`, if any.
    pub grouping: Vec<Activity>,
    /// Whether the course is the parent context activity (all events but enrollments).
    pub course_parent: bool,
    /// Statements about each question, after this one.
    pub children: Vec<Child>,
}

impl Parts {
    /// Parts with this object and nothing else.
    pub(crate) fn of(object: Activity) -> Self {
        Parts {
            object,
            result: None,
            extensions: Vec::new(),
            grouping: Vec::new(),
            course_parent: true,
            children: Vec::new(),
        }
    }

    /// Sets the result.
    pub(crate) fn with_result(mut self, result: Outcome) -> Self {
        self.result = Some(result);
        self
    }

    /// Sets the extra context extensions.
    pub(crate) fn with_extensions(
        mut self,
        extensions: Vec<(&'static str, Option<Value>)>,
    ) -> Self {
        self.extensions = extensions;
        self
    }
}

/// `{platform}/{kind}/{id}`, the IRI ERB gives LMS objects (`None` without an id).
pub(crate) fn lms_iri(options: &Options, kind: &str, id: Option<&Value>) -> Option<String> {
    let id = crate::pyfmt::py_str(id?);
    Some(format!("{}/{kind}/{id}", options.platform_url))
}

/// The course as an activity: `{platform}/course/{course_id}`, named when its name is configured.
pub(crate) fn course_activity(
    options: &Options,
    course_id: &str,
    language: &'static str,
) -> Activity {
    let id = format!("{}/course/{course_id}", options.platform_url);
    Activity::new(Some(id), TYPE_COURSE).named(language, lookup(&options.course_names, course_id))
}
