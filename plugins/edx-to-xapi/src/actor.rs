//! The actor: an Agent identified as ERB's `XAPI_AGENT_IFI_TYPE` says, from the settings
//! that stand for ERB's database lookups (external ids, e-mails).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::event::Event;
use crate::options::{lookup, AgentIfi};
use crate::pyfmt::json_dumps;
use crate::{ConvertError, Options};

/// The e-mail ERB uses for a user it cannot find.
const UNKNOWN_EMAIL: &str = "unknown@example.com";

/// The actor as JSON, and as the JSON text the statement id is made from.
pub(crate) fn agent(event: &Event, options: &Options) -> Result<(Value, String), ConvertError> {
    if options.platform_url.trim().is_empty() {
        return Err(ConvertError::InvalidOption {
            option: "platform_url",
            reason: "must be the LMS root URL, not empty".into(),
        });
    }
    let user = event.user_key();
    // Key order is tincan's: it is part of the statement id.
    let text_form = match options.agent_ifi {
        AgentIfi::ExternalId => {
            let user = user.ok_or_else(|| {
                ConvertError::missing("user_id or username (an anonymous user has no actor)")
            })?;
            let name = external_id(options, &user)?;
            json!({"objectType": "Agent", "account": {"name": name, "homePage": options.platform_url}})
        }
        AgentIfi::Mbox => {
            let email = email(options, user.as_deref());
            let mbox = if email.starts_with("mailto:") {
                email.to_string()
            } else {
                format!("mailto:{email}")
            };
            json!({"objectType": "Agent", "mbox": mbox})
        }
        AgentIfi::MboxSha1sum => {
            let email = email(options, user.as_deref());
            json!({"objectType": "Agent", "mbox_sha1sum": sha1_smol::Sha1::from(email.as_bytes()).digest().to_string()})
        }
    };
    let text = json_dumps(&text_form, true);
    Ok((text_form, text))
}

/// The user's external id: configured, else `uuid5(namespace, user)`.
fn external_id(options: &Options, user: &str) -> Result<String, ConvertError> {
    if let Some(id) = lookup(&options.external_user_ids, user) {
        return Ok(id.to_string());
    }
    let namespace = match &options.uuid_namespace {
        Some(text) => Uuid::parse_str(text.trim()).map_err(|e| ConvertError::InvalidOption {
            option: "uuid_namespace",
            reason: format!("not a UUID ({e})"),
        })?,
        None => Uuid::new_v5(&Uuid::NAMESPACE_URL, options.platform_url.as_bytes()),
    };
    Ok(Uuid::new_v5(&namespace, user.as_bytes()).to_string())
}

/// The user's e-mail, or ERB's stand-in for an unknown user.
fn email<'a>(options: &'a Options, user: Option<&str>) -> &'a str {
    user.and_then(|u| lookup(&options.user_emails, u))
        .unwrap_or(UNKNOWN_EMAIL)
}
