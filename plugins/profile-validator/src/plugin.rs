//! The component: reads the profiles from the granted directory (`/data`) when an instance
//! is made, and checks each statement of a batch against them. A profile that cannot be read
//! is the operator's error, not the data's: the call fails (500) saying which and why.

wit_bindgen::generate!({ world: "validator", path: "../../plugin-sdk/wit/v0.1" });

use serde_json::Value;
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use xlrs_plugin_sdk::guest::with_instance;
use xlrs_plugin_sdk::{config, log, Level};

use crate::profile::Profile;
use crate::{check, split_list, Settings};

/// Bytes read per call when loading a file.
const CHUNK: u64 = 1 << 20;

struct ProfileValidator {
    loaded: Result<(Vec<Profile>, Settings), String>,
}

fn granted_dir() -> Result<Descriptor, String> {
    get_directories()
        .into_iter()
        .find(|(_, path)| path == "/data")
        .map(|(dir, _)| dir)
        .ok_or_else(|| {
            "no directory granted: set [capabilities] dir to the profiles' folder".into()
        })
}

fn file_names(dir: &Descriptor) -> Result<Vec<String>, String> {
    if let Some(listed) = config("profiles") {
        return Ok(split_list(&listed));
    }
    let entries = dir
        .read_directory()
        .map_err(|e| format!("cannot list /data: {e:?}"))?;
    let mut names = Vec::new();
    while let Some(entry) = entries
        .read_directory_entry()
        .map_err(|e| format!("cannot list /data: {e:?}"))?
    {
        if entry.name.ends_with(".jsonld") || entry.name.ends_with(".json") {
            names.push(entry.name);
        }
    }
    names.sort();
    Ok(names)
}

fn read(dir: &Descriptor, name: &str) -> Result<String, String> {
    let file = dir
        .open_at(
            PathFlags::empty(),
            name,
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .map_err(|e| format!("cannot open {name}: {e:?}"))?;
    let mut bytes = Vec::new();
    loop {
        let (chunk, end) = file
            .read(CHUNK, bytes.len() as u64)
            .map_err(|e| format!("cannot read {name}: {e:?}"))?;
        bytes.extend_from_slice(&chunk);
        if end || chunk.is_empty() {
            break;
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8"))
}

fn load() -> Result<(Vec<Profile>, Settings), String> {
    let settings = Settings::from_config(
        config("scope").as_deref(),
        config("declared_by").as_deref(),
        config("require_template").as_deref(),
    )?;
    let dir = granted_dir()?;
    let names = file_names(&dir)?;
    if names.is_empty() {
        return Err("no profile in /data (*.jsonld or *.json, or list them in `profiles`)".into());
    }
    let profiles = names
        .iter()
        .map(|name| Profile::parse(&read(&dir, name)?).map_err(|e| format!("{name}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    log(
        Level::Debug,
        &format!(
            "{} profiles, {} statement templates",
            profiles.len(),
            profiles.iter().map(Profile::template_count).sum::<usize>()
        ),
    );
    Ok((profiles, settings))
}

impl ProfileValidator {
    fn new() -> Self {
        Self { loaded: load() }
    }

    /// Why each statement breaks the profiles (the statements as JSON values: the SDK's typed
    /// statements would cost a second conversion per statement).
    fn validate(&self, statements: &[String]) -> Vec<Error> {
        let (profiles, settings) = match &self.loaded {
            Ok(loaded) => loaded,
            // A plugin failure (the SDK reports the panic's message to the host).
            Err(e) => panic!("profile-validator cannot load its profiles: {e}"),
        };
        statements
            .iter()
            .enumerate()
            .filter_map(|(i, text)| {
                let why = match serde_json::from_str::<Value>(text) {
                    Ok(value) => check(profiles, settings, &value)?,
                    Err(e) => format!("not JSON: {e}"),
                };
                Some(Error {
                    message: why,
                    statement_index: Some(i as u32),
                })
            })
            .collect()
    }
}

impl Guest for ProfileValidator {
    fn validate(statements: Vec<String>) -> Result<(), Vec<Error>> {
        // The SDK's instance slot, so its panic hook reports a panic's message.
        let errors = with_instance(ProfileValidator::new, |p: &mut ProfileValidator| {
            p.validate(&statements)
        });
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

export!(ProfileValidator);
