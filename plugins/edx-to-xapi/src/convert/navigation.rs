//! Navigation in the LMS: links, outline entries and the units of a sequence.

use serde_json::Value;

use crate::event::Event;
use crate::parts::{lms_iri, Activity, Parts};
use crate::pyfmt::py_str;
use crate::vocab::{
    EXT_ENDING_POINT, EXT_STARTING_POSITION, EXT_TOTAL_ITEMS, TYPE_LINK, TYPE_MODULE, TYPE_RESOURCE,
};
use crate::{ConvertError, Options};

/// `edx.ui.lms.link_clicked`: the link target.
pub(crate) fn link(event: &Event, _options: &Options) -> Result<Parts, ConvertError> {
    let target = event
        .data(&["target_url"])
        .map(py_str)
        .ok_or_else(|| ConvertError::missing("event.target_url"))?;
    Ok(Parts::of(Activity::new(Some(target), TYPE_LINK)))
}

/// `edx.ui.lms.outline.selected` and its sequence variant: the outline entry chosen.
pub(crate) fn outline(event: &Event, _options: &Options) -> Result<Parts, ConvertError> {
    let target = event.data(&["target_url"]).map(py_str);
    let name = event.data(&["target_name"]).map(py_str);
    let object = Activity::new(target, TYPE_MODULE).named("en", name.as_deref());
    Ok(Parts::of(object))
}

/// Next, previous and tab selection in a sequence: the sequence, from which unit to which.
pub(crate) fn sequence(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let object = Activity::new(
        lms_iri(options, "xblock", event.data(&["id"])),
        TYPE_RESOURCE,
    )
    .with_extensions(vec![(EXT_TOTAL_ITEMS, event.data(&["tab_count"]).cloned())]);
    let ending = match event.name() {
        "edx.ui.lms.sequence.tab_selected" => event.data(&["target_tab"]).cloned(),
        "edx.ui.lms.sequence.next_selected" => Some(Value::String("next unit".into())),
        _ => Some(Value::String("previous unit".into())),
    };
    Ok(Parts::of(object).with_extensions(vec![
        (EXT_STARTING_POSITION, event.data(&["current_tab"]).cloned()),
        (EXT_ENDING_POINT, ending),
    ]))
}
