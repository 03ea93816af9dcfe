//! Discussion forum events: the thread, response or comment is the object, identified by
//! the API path of the request; the discussion (when known) groups it.

use crate::event::Event;
use crate::parts::{Activity, Parts};
use crate::pyfmt::py_str;
use crate::vocab::{EXT_TYPE, TYPE_DISCUSSION};
use crate::{ConvertError, Options};

/// The post and its discussion.
pub(crate) fn post(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let id = event
        .data(&["id"])
        .map(py_str)
        .ok_or_else(|| ConvertError::missing("event.id"))?;
    let path = event
        .context(&["path"])
        .map(py_str)
        .ok_or_else(|| ConvertError::missing("context.path"))?;
    // The request path without the post id: `/api/discussion/v1/threads/<id>/` → `…/threads`.
    let base = path.trim_end_matches('/').replace(&id, "");
    let base = base.trim_end_matches('/');
    let title = event.data(&["title"]).map(py_str);
    let object = Activity::new(
        Some(format!("{}{base}/{id}", options.platform_url)),
        TYPE_DISCUSSION,
    )
    .named("en", title.as_deref());
    let mut parts = Parts::of(object);
    if let Some(discussion) = event.data(&["discussion", "id"]) {
        let id = format!(
            "{}/api/discussion/v1/threads/{}",
            options.platform_url,
            py_str(discussion)
        );
        parts
            .grouping
            .push(Activity::new(Some(id), TYPE_DISCUSSION));
    }
    Ok(parts)
}

/// `edx.forum.thread.created`: the post, with the thread type.
pub(crate) fn thread_created(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let thread_type = event.data(&["thread_type"]).cloned();
    Ok(post(event, options)?.with_extensions(vec![(EXT_TYPE, thread_type)]))
}

/// Votes: the post, with the vote value.
pub(crate) fn voted(event: &Event, options: &Options) -> Result<Parts, ConvertError> {
    let vote = event.data(&["vote_value"]).cloned();
    Ok(post(event, options)?.with_extensions(vec![(EXT_TYPE, vote)]))
}
