//! Activities and their definitions: interaction types and components.

use serde_json::{Map, Value};

use super::{
    extensions, fail, is_iri, join, language_map, no_nulls, object, only_keys, string, Ctx, Result,
    Rule,
};

pub(super) const INTERACTION_TYPES: [&str; 10] = [
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

pub(super) fn validate_activity(ctx: &Ctx, map: &Map<String, Value>, path: &str) -> Result {
    only_keys(map, path, &["objectType", "id", "definition"])?;
    match map.get("id") {
        None => ctx.waivable(Rule::ActivityId, &join(path, "id"), "is required")?,
        Some(id) => {
            if !is_iri(string(id, &join(path, "id"))?) {
                ctx.waivable(Rule::Iri, &join(path, "id"), "must be an IRI")?;
            }
        }
    }
    let Some(definition) = map.get("definition") else {
        return Ok(());
    };
    let dp = join(path, "definition");
    let def = object(definition, &dp)?;
    no_nulls(def, &dp)?;
    only_keys(
        def,
        &dp,
        &[
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
            "choices",
            "scale",
            "source",
            "target",
            "steps",
        ],
    )?;
    for key in ["name", "description"] {
        if let Some(v) = def.get(key) {
            language_map(v, &join(&dp, key))?;
        }
    }
    for key in ["type", "moreInfo"] {
        if let Some(v) = def.get(key) {
            if !is_iri(string(v, &join(&dp, key))?) {
                ctx.waivable(Rule::Iri, &join(&dp, key), "must be an IRI")?;
            }
        }
    }
    if let Some(e) = def.get("extensions") {
        extensions(ctx, e, &join(&dp, "extensions"))?;
    }
    let interaction = match def.get("interactionType") {
        Some(t) => {
            let t = string(t, &join(&dp, "interactionType"))?;
            if !INTERACTION_TYPES.contains(&t) {
                return fail(
                    Rule::Interaction,
                    &join(&dp, "interactionType"),
                    "must be one of the xAPI interaction types",
                );
            }
            Some(t)
        }
        None => None,
    };
    if let Some(c) = def.get("correctResponsesPattern") {
        let p = join(&dp, "correctResponsesPattern");
        if interaction.is_none() {
            return fail(Rule::Interaction, &p, "needs an interactionType");
        }
        let items = c
            .as_array()
            .map_or_else(|| fail(Rule::Type, &p, "must be an array of strings"), Ok)?;
        for (i, item) in items.iter().enumerate() {
            string(item, &format!("{p}[{i}]"))?;
        }
    }
    let allowed: &[&str] = match interaction {
        Some("choice") | Some("sequencing") => &["choices"],
        Some("likert") => &["scale"],
        Some("matching") => &["source", "target"],
        Some("performance") => &["steps"],
        _ => &[],
    };
    for key in ["choices", "scale", "source", "target", "steps"] {
        let Some(list) = def.get(key) else { continue };
        let p = join(&dp, key);
        if interaction.is_none() {
            return fail(
                Rule::Interaction,
                &p,
                "interaction components need an interactionType",
            );
        }
        if !allowed.contains(&key) {
            return fail(
                Rule::Interaction,
                &p,
                "is not a component of this interactionType",
            );
        }
        let items = list
            .as_array()
            .map_or_else(|| fail(Rule::Type, &p, "must be an array"), Ok)?;
        let mut ids = std::collections::HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            let component = object(item, &ip)?;
            only_keys(component, &ip, &["id", "description"])?;
            let id = component
                .get("id")
                .map_or_else(|| fail(Rule::Required, &join(&ip, "id"), "is required"), Ok)?;
            let id = string(id, &join(&ip, "id"))?;
            if !ids.insert(id) {
                return fail(
                    Rule::Interaction,
                    &join(&ip, "id"),
                    "must be unique within the list",
                );
            }
            if let Some(d) = component.get("description") {
                language_map(d, &join(&ip, "description"))?;
            }
        }
    }
    Ok(())
}
