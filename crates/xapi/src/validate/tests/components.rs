//! Interaction components and scores: their lists, ids, descriptions and values.

use serde_json::json;

use super::*;

/// Every interaction component list with an interactionType that supports it
/// (xAPI-Data 2.4.4.1.s15, table 2).
const COMPONENT_LISTS: [(&str, &str); 6] = [
    ("choice", "choices"),
    ("sequencing", "choices"),
    ("likert", "scale"),
    ("matching", "source"),
    ("matching", "target"),
    ("performance", "steps"),
];

/// A statement whose activity has `interaction_type` and `list: value`.
fn with_components(interaction_type: &str, list: &str, value: Value) -> Value {
    with(
        &["object", "definition"],
        json!({"interactionType": interaction_type, list: value}),
    )
}

#[test]
fn valid_interaction_component_lists_are_accepted() {
    // XAPI-00051..00054, XAPI-00062: an array of components, each an id and an optional
    // Language Map description.
    let components =
        json!([{"id": "a", "description": {"en-US": "A", "sr-Latn-RS": "A"}}, {"id": "b"}]);
    for (interaction_type, list) in COMPONENT_LISTS {
        ok_in_both(&with_components(interaction_type, list, components.clone()));
        ok_in_both(&with_components(interaction_type, list, json!([])));
    }
    ok_in_both(&with(
        &["object", "definition"],
        json!({"interactionType": "matching", "source": components, "target": components,
               "correctResponsesPattern": ["a[.]b"]}),
    ));
}

#[test]
fn an_interaction_component_list_that_is_not_an_array_is_rejected() {
    // XAPI-00051 (steps), XAPI-00052 (target), XAPI-00053 (source), XAPI-00054 (scale), and
    // choices: each is an "Array of interaction components" (xAPI-Data 2.4.4.1.s8 table).
    for (interaction_type, list) in COMPONENT_LISTS {
        for value in [json!("a"), json!({"id": "a"}), json!(5), json!(true)] {
            bad_in_both(
                &with_components(interaction_type, list, value),
                &format!("object.definition.{list}"),
            );
        }
    }
}

#[test]
fn each_interaction_component_must_be_an_object() {
    // XAPI-00063, and XAPI-00051..00054 for their lists: a component is an object with "id"
    // and "description" (xAPI-Data 2.4.4.1.s15 table 1), so ["a", 5] is not a component list.
    for (interaction_type, list) in COMPONENT_LISTS {
        for (value, at) in [
            (json!(["a", 5]), "[0]"),
            (json!([{"id": "a"}, 5]), "[1]"),
            (json!([["a"]]), "[0]"),
            (json!([null]), "[0]"),
        ] {
            bad_in_both(
                &with_components(interaction_type, list, value),
                &format!("object.definition.{list}{at}"),
            );
        }
    }
}

#[test]
fn each_interaction_component_needs_a_string_id_distinct_within_its_list() {
    // XAPI-00051..00054: a component's "id" is a required String (xAPI-Data 2.4.4.1.s15
    // table 1); "Within an array of interaction components, all id values MUST be distinct"
    // (2.4.4.1.s16.b1). A property other than id and description is not allowed (2.2.s4.b1.b7).
    for (interaction_type, list) in COMPONENT_LISTS {
        for (value, at) in [
            (json!([{"description": {"en-US": "no id"}}]), "[0].id"),
            (json!([{"id": 5}]), "[0].id"),
            (json!([{"id": {"en-US": "a"}}]), "[0].id"),
            (json!([{"id": ["a"]}]), "[0].id"),
            (json!([{"id": "a"}, {"id": "a"}]), "[1].id"),
            (json!([{"id": "a", "label": "A"}]), "[0].label"),
        ] {
            bad_in_both(
                &with_components(interaction_type, list, value),
                &format!("object.definition.{list}{at}"),
            );
        }
    }
}

#[test]
fn an_interaction_component_description_must_be_a_language_map() {
    // XAPI-00062: a component's "description" is a Language Map (xAPI-Data 2.4.4.1.s15
    // table 1), whose keys are RFC 5646 tags and whose values are strings (4.2).
    for (interaction_type, list) in COMPONENT_LISTS {
        for (description, at) in [
            (json!("x"), ""),
            (json!(["x"]), ""),
            (json!(5), ""),
            (json!({"bad tag!": "x"}), ".bad tag!"),
            (json!({"en_US": "x"}), ".en_US"),
            (json!({"en-US": 5}), ".en-US"),
        ] {
            bad_in_both(
                &with_components(
                    interaction_type,
                    list,
                    json!([{"id": "a", "description": description}]),
                ),
                &format!("object.definition.{list}[0].description{at}"),
            );
        }
    }
}

#[test]
fn a_component_list_the_interaction_type_does_not_support_is_refused() {
    // xAPI-Data 2.4.4.1.s15 table 2 names the component lists each interactionType supports
    // ("true-false, fill-in, long-fill-in, numeric, other: [No component lists supported]"),
    // and 2.4.4.1.s13.b3 lets the LRS "return 400 Bad Request if the remaining properties are
    // not valid for the Interaction Activity". That is a MAY, not a MUST: xlrs takes it.
    let components = json!([{"id": "a"}]);
    for interaction_type in INTERACTION_TYPES {
        for list in ["choices", "scale", "source", "target", "steps"] {
            if COMPONENT_LISTS.contains(&(interaction_type, list)) {
                continue;
            }
            bad_in_both(
                &with_components(interaction_type, list, components.clone()),
                &format!("object.definition.{list}"),
            );
        }
    }
}

#[test]
fn a_score_value_that_is_not_a_number_is_rejected() {
    // XAPI-00080 (max), and scaled, raw and min: each is a "Decimal number" (xAPI-Data
    // 2.4.5.1.s2 table); "The LRS MUST reject Statements where the wrong data type is used,
    // for example with strings where numbers are required, even if those strings contain
    // numbers" (2.2.s4.b1.b2, XAPI-00006). In a statement and in a sub-statement.
    for key in ["scaled", "raw", "min", "max"] {
        for value in [
            json!("1"),
            json!("one hundred"),
            json!({"value": 1}),
            json!(true),
            json!([1]),
        ] {
            bad_in_both(
                &with(&["result", "score", key], value.clone()),
                &format!("result.score.{key}"),
            );
            bad_in_both(
                &sub_statement_with("result", json!({"score": {key: value}})),
                &format!("object.result.score.{key}"),
            );
        }
    }
}

#[test]
fn score_values_may_be_any_decimal_number_within_their_ranges() {
    // XAPI-00080: "max" is a "Decimal number greater than min (if present)"; the others are
    // decimals too (xAPI-Data 2.4.5.1.s2 table).
    for score in [
        json!({"max": 45.45}),
        json!({"max": 100}),
        json!({"max": -1}),
        json!({"min": 0.12123434, "raw": 12.125, "max": 45.45, "scaled": 0.12123434}),
        json!({"min": -10.5, "raw": -10.5, "max": 1e3, "scaled": -1}),
    ] {
        ok_in_both(&with(&["result", "score"], score.clone()));
        ok_in_both(&sub_statement_with("result", json!({"score": score})));
    }
}
