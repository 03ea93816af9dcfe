//! `xlrs plugin new NAME --kind K --lang L`: a project that builds and loads as is, from the
//! templates in `templates/` (`{{name}}` and `{{sdk}}` are filled in).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::Lang;
use xlrs_plugin_host::PluginKind;

/// The backend template is the `jsonl-store` example's v0.2 form itself: a durable store in one
/// file, with its index in memory.
const RUST_BACKEND: &str = include_str!("templates/rust/backend.rs");
/// The backend's further sources: its `storage` functions and its file.
const RUST_BACKEND_FILES: [(&str, &str); 2] = [
    (
        "src/store.rs",
        include_str!("../../../../plugins/jsonl-store/src/v0_2.rs"),
    ),
    (
        "src/file.rs",
        include_str!("../../../../plugins/jsonl-store/src/file.rs"),
    ),
];
/// Its manifest: the directory grant and limits a file store needs.
const BACKEND_MANIFEST: &str = include_str!("../../../../plugins/jsonl-store/plugin.toml");

/// The source file and the template of one language and kind, when there is one.
fn source(lang: Lang, kind: PluginKind) -> Option<(&'static str, &'static str)> {
    use PluginKind::*;
    Some(match (lang, kind) {
        (Lang::Rust, Validator) => ("src/lib.rs", include_str!("templates/rust/validator.rs")),
        (Lang::Rust, Transformer) => ("src/lib.rs", include_str!("templates/rust/transformer.rs")),
        (Lang::Rust, Backend) => ("src/lib.rs", RUST_BACKEND),
        (Lang::Rust, Admission) => ("src/lib.rs", include_str!("templates/rust/admission.rs")),
        (Lang::Rust, Reactor) => ("src/lib.rs", include_str!("templates/rust/reactor.rs")),
        (Lang::Js, Validator) => ("plugin.js", include_str!("templates/js/validator.js")),
        (Lang::Js, Transformer) => ("plugin.js", include_str!("templates/js/transformer.js")),
        (Lang::Js, Backend) => ("plugin.js", include_str!("templates/js/backend.js")),
        (Lang::Python, Validator) => ("plugin.py", include_str!("templates/python/validator.py")),
        (Lang::Python, Transformer) => {
            ("plugin.py", include_str!("templates/python/transformer.py"))
        }
        (Lang::Python, Backend) => ("plugin.py", include_str!("templates/python/backend.py")),
        (Lang::C, Validator) => ("plugin.c", include_str!("templates/c/validator.c")),
        (Lang::C, Transformer) => ("plugin.c", include_str!("templates/c/transformer.c")),
        (_, Backend | Admission | Reactor) => return None,
    })
}

/// The manifest of a new plugin of `kind` in `lang`.
fn manifest(kind: PluginKind, lang: Lang, name: &str) -> String {
    if kind == PluginKind::Backend {
        let body = BACKEND_MANIFEST
            .replace("dir = \"jsonl-store\"", &format!("dir = \"{name}\""))
            .replace("XLRS_STORE=jsonl-store", &format!("XLRS_STORE={name}"));
        // JavaScript and Python say which contract to build (Rust: the SDK's feature).
        return match lang {
            Lang::Rust | Lang::C => body,
            Lang::Js | Lang::Python => body.replacen(
                "kind = \"backend\"\n",
                "kind = \"backend\"\ncontract = \"0.2\"\n",
                1,
            ),
        };
    }
    // Engines bundled in the component (StarlingMonkey, CPython) need more room than a
    // Rust or C plugin.
    let limits = match lang {
        Lang::Js | Lang::Python => "\n[limits]\nmemory_mb = 256\ntimeout_ms = 5000\n",
        Lang::Rust | Lang::C => "",
    };
    let config = match kind {
        PluginKind::Validator => "deny_verb = \"http://example.org/verbs/forbidden\"\n",
        PluginKind::Admission => "waive_rule = \"score\"\n",
        PluginKind::Reactor => "verb = \"http://adlnet.gov/expapi/verbs/passed\"\n",
        _ => "extension = \"http://example.org/extensions/processed-by\"\n",
    };
    // JavaScript and Python build the v0.2 field worlds (the Rust SDK picks them by its
    // feature; C builds v0.1).
    let contract = match (lang, kind) {
        (Lang::Js | Lang::Python, PluginKind::Validator | PluginKind::Transformer) => {
            "contract = \"0.2\"\n"
        }
        _ => "",
    };
    format!(
        "# Deploy: PLUGINS_DIR/{name}/plugin.toml (this file) beside PLUGINS_DIR/{name}/{name}.wasm.\nkind = \"{kind}\"\n{contract}order = 100\n{limits}\n[config]\n{config}",
        kind = kind.as_str()
    )
}

/// How the Rust project depends on the SDK: the checkout this xlrs was built from when it
/// can be found, else the published crate; with the `admission` feature for an admission
/// plugin.
fn sdk_dependency(parent: &Path, sdk: Option<&Path>, kind: PluginKind) -> String {
    let is_sdk = |dir: &Path| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|t| t.contains("name = \"xlrs-plugin-sdk\""))
    };
    let found = sdk.map(Path::to_path_buf).or_else(|| {
        let exe = std::env::current_exe().ok();
        let starts = [Some(parent.to_path_buf()), exe];
        starts
            .into_iter()
            .flatten()
            .flat_map(|start| {
                start
                    .ancestors()
                    .map(|a| a.join("plugin-sdk"))
                    .collect::<Vec<_>>()
            })
            .find(|dir| is_sdk(dir))
    });
    let source = match found.and_then(|p| p.canonicalize().ok()) {
        Some(path) => format!("path = {:?}", path.display().to_string()),
        None => format!("version = \"{}\"", env!("CARGO_PKG_VERSION")),
    };
    // The `wit/v0.2` contract's worlds are features of the SDK.
    let features = match kind {
        PluginKind::Admission => ", features = [\"admission\"]",
        PluginKind::Reactor => ", features = [\"reactor\"]",
        PluginKind::Validator | PluginKind::Transformer => ", features = [\"fields\"]",
        PluginKind::Backend => ", features = [\"storage\"]",
    };
    format!("{{ {source}{features} }}")
}

/// Writes a new project `parent/name` and returns its folder.
pub fn new_project(
    name: &str,
    kind: PluginKind,
    lang: Lang,
    parent: &Path,
    sdk: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!(
            "plugin names are lowercase letters, digits and '-', starting with a letter: {name:?}"
        );
    }
    let Some((file, template)) = source(lang, kind) else {
        bail!(
            "there is no {} template in {}: backends start from Rust, JavaScript or Python, \
             admission plugins and reactors from Rust (`--lang rust`); their worlds themselves \
             can be built in any language (docs/plugins.md)",
            kind.as_str(),
            lang.as_str()
        );
    };
    let dir = parent.join(name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let fill = |text: &str| text.replace("{{name}}", name);
    let mut files: Vec<(String, String)> = vec![
        ("plugin.toml".into(), manifest(kind, lang, name)),
        (".gitignore".into(), "target/\n".into()),
        (
            "README.md".into(),
            fill(include_str!("templates/README.md")).replace("{{kind}}", kind.as_str()),
        ),
    ];
    files.push((file.into(), fill(template)));
    if (lang, kind) == (Lang::Rust, PluginKind::Backend) {
        for (path, text) in RUST_BACKEND_FILES {
            files.push((path.into(), text.into()));
        }
    }
    if lang == Lang::Rust {
        let mut cargo = fill(include_str!("templates/rust/Cargo.toml"))
            .replace("{{sdk}}", &sdk_dependency(parent, sdk, kind));
        if kind == PluginKind::Backend {
            // The file store reads and writes its granted directory with WASI's filesystem.
            cargo = cargo.replace(
                "serde_json = \"1\"\n",
                "serde_json = \"1\"\nwasip2 = \"=1.0.4\"\n",
            );
        }
        files.push(("Cargo.toml".into(), cargo));
    }
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin_tools::build::detect;
    use xlrs_plugin_host::Manifest;

    #[test]
    fn a_new_project_in_each_language_is_found_by_the_build_as_that_language() {
        let parent = tempfile::tempdir().unwrap();
        for lang in [Lang::Rust, Lang::Js, Lang::Python, Lang::C] {
            let name = format!("p-{}", lang.as_str());
            let dir = new_project(&name, PluginKind::Validator, lang, parent.path(), None).unwrap();
            assert_eq!(detect(&dir).unwrap(), lang);
            let manifest = Manifest::read(&dir.join("plugin.toml")).unwrap();
            assert_eq!(manifest.kind, Some(PluginKind::Validator));
        }
    }

    #[test]
    fn plugin_names_are_lowercase_words_and_an_existing_folder_is_never_overwritten() {
        let parent = tempfile::tempdir().unwrap();
        for bad in ["Upper", "with space", "../escape", "", "9lives"] {
            assert!(
                new_project(bad, PluginKind::Validator, Lang::Rust, parent.path(), None).is_err(),
                "{bad:?}"
            );
        }
        new_project("twice", PluginKind::Validator, Lang::C, parent.path(), None).unwrap();
        let again = new_project("twice", PluginKind::Validator, Lang::C, parent.path(), None);
        assert!(again.unwrap_err().to_string().contains("already exists"));
    }

    #[test]
    fn backends_start_from_rust_and_other_languages_say_so() {
        let parent = tempfile::tempdir().unwrap();
        let err = new_project("b", PluginKind::Backend, Lang::C, parent.path(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--lang rust"), "{err}");
        let py = new_project("p", PluginKind::Backend, Lang::Python, parent.path(), None).unwrap();
        let manifest = Manifest::read(&py.join("plugin.toml")).unwrap();
        assert_eq!(
            manifest.contract.as_deref(),
            Some("0.2"),
            "the storage world"
        );
        let dir = new_project("b", PluginKind::Backend, Lang::Rust, parent.path(), None).unwrap();
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(cargo.contains("wasip2"), "{cargo}");
        assert!(cargo.contains("features = [\"storage\"]"), "{cargo}");
        let store = std::fs::read_to_string(dir.join("src/store.rs")).unwrap();
        assert!(store.contains("export_storage!"), "the v0.2 storage world");
        let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
        assert!(manifest.contains("dir = \"b\""), "{manifest}");
    }

    #[test]
    fn a_rust_project_depends_on_the_sdk_checkout_it_was_made_from() {
        let parent = tempfile::tempdir().unwrap();
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugin-sdk");
        let dir = new_project(
            "r",
            PluginKind::Transformer,
            Lang::Rust,
            parent.path(),
            Some(&sdk),
        )
        .unwrap();
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let expected = sdk.canonicalize().unwrap().display().to_string();
        assert!(cargo.contains(&format!("path = {expected:?}")), "{cargo}");
    }
}
