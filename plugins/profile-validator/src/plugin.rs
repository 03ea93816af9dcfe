//! The component: reads the profiles from the granted directory (`/data`) when an instance
//! is made, and checks each statement of a batch against them. A profile that cannot be read
//! is the operator's error, not the data's: the call fails (500) saying which and why.

use serde_json::Value;
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use xlrs_plugin_sdk::{config, export_validator, log, Level, Rejection, Statement, Validator};

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

impl Validator for ProfileValidator {
    fn new() -> Self {
        Self { loaded: load() }
    }

    fn validate_batch(&mut self, statements: &[Statement]) -> Result<(), Vec<Rejection>> {
        let (profiles, settings) = match &self.loaded {
            Ok(loaded) => loaded,
            // A plugin failure (the SDK reports the panic's message to the host).
            Err(e) => panic!("profile-validator cannot load its profiles: {e}"),
        };
        let rejections: Vec<Rejection> = statements
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let value: Value = match serde_json::to_value(s) {
                    Ok(v) => v,
                    Err(e) => return Some(Rejection::of(i, format!("not JSON: {e}"))),
                };
                check(profiles, settings, &value).map(|why| Rejection::of(i, why))
            })
            .collect();
        if rejections.is_empty() {
            Ok(())
        } else {
            Err(rejections)
        }
    }
}

export_validator!(ProfileValidator);
