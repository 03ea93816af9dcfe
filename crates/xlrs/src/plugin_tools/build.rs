//! `xlrs plugin build DIR`: one command for a plugin project in any supported language. The
//! language is told by the project's entry file; the world by `kind` in its plugin.toml.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use super::{toolchain, write_c_bindings, write_wit, Lang, WIT, WIT_V0_2};
use xlrs_plugin_host::{Manifest, PluginKind};

/// The JavaScript helper module, provided to builds as `xlrs.js`.
const JS_HELPER: &str = include_str!("../../../../plugin-sdk/js/xlrs.js");
/// The JavaScript helper for field plugins (contract 0.2), provided as `xlrs-fields.js`.
const JS_FIELDS_HELPER: &str = include_str!("../../../../plugin-sdk/js/xlrs-fields.js");
/// The JavaScript storage helper (`Index`, the storage errors).
const JS_STORAGE_HELPER: &str = include_str!("../../../../plugin-sdk/js/xlrs-storage.js");
/// The world a JavaScript storage backend is built for: `storage` and WASI's filesystem.
const JS_STORAGE_WORLD: &str = "storage-with-files";
/// The WASI version StarlingMonkey (the engine componentize-js embeds) imports in
/// componentize-js 0.23.
const STARLINGMONKEY_WASI: &str = "0.2.10";
/// The WASI release whose WIT the toolchain's jco ships with the filesystem interfaces.
const JCO_WASI_WIT: &str = "0.2.12";

/// Writes WASI's filesystem WIT and what it uses (io, clocks) into `deps`, from the jco the
/// componentize-js toolchain installed, at StarlingMonkey's version so one set of WASI
/// resources serves the engine and the plugin (the interfaces used are the same in both).
fn wasi_filesystem_wit(tool: &Path, deps: &Path) -> anyhow::Result<()> {
    let builtin = tool.join(format!(
        "node_modules/@bytecodealliance/jco/lib/wit/builtin/{JCO_WASI_WIT}"
    ));
    for package in ["wasi-filesystem", "wasi-io", "wasi-clocks"] {
        let from = builtin.join(package).join("package.wit");
        let text = std::fs::read_to_string(&from)
            .with_context(|| format!("reading {} (the toolchain's jco)", from.display()))?;
        let dir = deps.join(package);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("package.wit"),
            text.replace(
                &format!("@{JCO_WASI_WIT}"),
                &format!("@{STARLINGMONKEY_WASI}"),
            ),
        )?;
    }
    Ok(())
}

/// The Python helper module, provided to builds as `xlrs_plugin.py`.
const PY_HELPER: &str = include_str!("../../../../plugin-sdk/python/xlrs_plugin.py");
/// The C helper header.
const C_HELPER_H: &str = include_str!("../../../../plugin-sdk/c/xlrs_plugin.h");
/// The C helper source.
const C_HELPER_C: &str = include_str!("../../../../plugin-sdk/c/xlrs_plugin.c");

/// The language of the project in `dir`, from its entry file.
pub fn detect(dir: &Path) -> anyhow::Result<Lang> {
    let entries = [
        ("Cargo.toml", Lang::Rust),
        ("plugin.js", Lang::Js),
        ("plugin.py", Lang::Python),
        ("plugin.c", Lang::C),
    ];
    entries
        .iter()
        .find(|(file, _)| dir.join(file).is_file())
        .map(|(_, lang)| *lang)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} is not a plugin project: it has none of Cargo.toml, plugin.js, plugin.py, plugin.c \
                 (`xlrs plugin new` makes one)",
                dir.display()
            )
        })
}

/// Builds the project in `dir` into a component at `out` (default `DIR/target/NAME.wasm`),
/// with its plugin.toml copied beside it as `NAME.toml`. Returns the component's path.
pub fn build(dir: &Path, out: Option<&Path>, toolchains: &Path) -> anyhow::Result<PathBuf> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("no plugin project at {}", dir.display()))?;
    let lang = detect(&dir)?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("plugin")
        .to_string();
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("target").join(format!("{name}.wasm")));
    let work = dir.join("target").join("xlrs-build");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let manifest_path = dir.join("plugin.toml");
    let (kind, contract) = if manifest_path.is_file() {
        let manifest = Manifest::read(&manifest_path)?;
        (manifest.kind, manifest.contract)
    } else {
        (None, None)
    };
    let kind = || {
        kind.ok_or_else(|| {
            anyhow::anyhow!(
                "{} must say which world to build: kind = \"validator\" | \"transformer\" | \"backend\"",
                manifest_path.display()
            )
        })
    };
    let target = || world(kind()?, contract.as_deref());
    let component = match lang {
        Lang::Rust => rust(&dir)?,
        Lang::Js => js(&dir, &work, target()?, toolchains)?,
        Lang::Python => python(&dir, &work, target()?, toolchains)?,
        Lang::C => c(&dir, &work, kind()?)?,
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, component).with_context(|| format!("writing {}", out.display()))?;
    if manifest_path.is_file() {
        let beside = out.with_extension("toml");
        if beside != manifest_path {
            std::fs::copy(&manifest_path, &beside)
                .with_context(|| format!("copying plugin.toml to {}", beside.display()))?;
        }
    }
    Ok(out)
}

/// Rust: Debian's cargo builds std for wasm32-unknown-unknown from source; the core module
/// carries wit-bindgen's metadata and becomes a component without an adapter.
fn rust(dir: &Path) -> anyhow::Result<Vec<u8>> {
    toolchain::rust_guest()?;
    let manifest: toml::Value = toml::from_str(&std::fs::read_to_string(dir.join("Cargo.toml"))?)
        .context("reading Cargo.toml")?;
    let package = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .context("Cargo.toml has no package.name")?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    toolchain::run(
        "cargo build (wasm32-unknown-unknown)",
        Command::new("/usr/bin/cargo")
            .args(["build", "--release", "--target", "wasm32-unknown-unknown"])
            .arg("-Zbuild-std=std,panic_abort")
            .current_dir(dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("RUSTC", "/usr/bin/rustc")
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld-22")
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTC_WRAPPER"),
    )?;
    let module = target_dir
        .join("wasm32-unknown-unknown/release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    let bytes = std::fs::read(&module).with_context(|| format!("reading {}", module.display()))?;
    crate::plugin_tools::tooling::componentize(&bytes, None)
}

/// The contract (WIT text) and world a JavaScript or Python project of `kind` builds for.
fn world(kind: PluginKind, contract: Option<&str>) -> anyhow::Result<(&'static str, &'static str)> {
    let v0_2 = contract == Some("0.2");
    Ok(match kind {
        PluginKind::Validator if v0_2 => (WIT_V0_2, "field-validator"),
        PluginKind::Transformer if v0_2 => (WIT_V0_2, "field-transformer"),
        PluginKind::Backend if v0_2 => (WIT_V0_2, "storage"),
        PluginKind::Admission | PluginKind::Reactor => (WIT_V0_2, kind.as_str()),
        _ => (WIT, kind.as_str()),
    })
}

/// JavaScript: the project's files (and `xlrs.js` unless it has its own) are bundled by
/// componentize-js with the StarlingMonkey engine.
fn js(
    dir: &Path,
    work: &Path,
    (wit, world): (&str, &str),
    toolchains: &Path,
) -> anyhow::Result<Vec<u8>> {
    let tool = toolchain::componentize_js(toolchains)?;
    let src = work.join("src");
    copy_sources(dir, &src)?;
    for (name, helper) in [
        ("xlrs.js", JS_HELPER),
        ("xlrs-fields.js", JS_FIELDS_HELPER),
        ("xlrs-storage.js", JS_STORAGE_HELPER),
    ] {
        if !src.join(name).exists() {
            std::fs::write(src.join(name), helper)?;
        }
    }
    let world = if world == "storage" {
        // componentize-js stubs WASI's filesystem unless the world imports it: a storage
        // backend builds a world that adds it to `storage`, so it can keep files in its
        // granted directory.
        let with_files = format!(
            "{wit}\nworld {JS_STORAGE_WORLD} {{\n    include storage;\n    \
             import wasi:filesystem/preopens@{STARLINGMONKEY_WASI};\n}}\n"
        );
        write_wit(&work.join("wit"), &with_files)?;
        wasi_filesystem_wit(&tool, &work.join("wit/deps"))?;
        JS_STORAGE_WORLD
    } else {
        write_wit(&work.join("wit"), wit)?;
        world
    };
    let out = work.join("plugin.wasm");
    toolchain::run(
        "componentize-js",
        Command::new("node")
            .arg(tool.join("build.mjs"))
            .arg(src.join("plugin.js"))
            .arg(work.join("wit"))
            .arg(world)
            .arg(&out)
            .current_dir(&tool),
    )?;
    Ok(std::fs::read(out)?)
}

/// Python: componentize-py bundles CPython with the project's `plugin` module (and
/// `xlrs_plugin` unless the project has its own).
fn python(
    dir: &Path,
    work: &Path,
    (wit, world): (&str, &str),
    toolchains: &Path,
) -> anyhow::Result<Vec<u8>> {
    let python = toolchain::componentize_py(toolchains)?;
    let helper = work.join("helper");
    std::fs::create_dir_all(&helper)?;
    std::fs::write(helper.join("xlrs_plugin.py"), PY_HELPER)?;
    write_wit(&work.join("wit"), wit)?;
    let out = work.join("plugin.wasm");
    toolchain::run(
        "componentize-py",
        Command::new(python)
            .arg("-c")
            .arg("import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())")
            .arg("-d")
            .arg(work.join("wit"))
            .args(["-w", world, "componentize", "plugin", "-p"])
            .arg(dir)
            .arg("-p")
            .arg(&helper)
            .arg("-o")
            .arg(&out)
            .current_dir(work),
    )?;
    Ok(std::fs::read(out)?)
}

/// C: bindings from the contract, clang for wasm32-wasi as a reactor, and the WASI preview 1
/// reactor adapter to make the component.
fn c(dir: &Path, work: &Path, kind: PluginKind) -> anyhow::Result<Vec<u8>> {
    toolchain::c_guest()?;
    let bindings = work.join("bindings");
    write_c_bindings(kind, &bindings)?;
    let helper = work.join("helper");
    std::fs::create_dir_all(&helper)?;
    std::fs::write(helper.join("xlrs_plugin.h"), C_HELPER_H)?;
    let mut sources = c_files(dir)?;
    if !dir.join("xlrs_plugin.c").exists() {
        std::fs::write(helper.join("xlrs_plugin.c"), C_HELPER_C)?;
        sources.push(helper.join("xlrs_plugin.c"));
    }
    sources.push(bindings.join("xlrs.c"));
    let core = work.join("core.wasm");
    toolchain::run(
        "clang (wasm32-wasi)",
        Command::new("clang")
            .args([
                "--target=wasm32-wasi",
                "-mexec-model=reactor",
                "-O2",
                "-Wall",
            ])
            .arg(format!("-DXLRS_WORLD_{}", kind.as_str().to_uppercase()))
            .arg("-I")
            .arg(dir)
            .arg("-I")
            .arg(&bindings)
            .arg("-I")
            .arg(&helper)
            .args(&sources)
            .arg(bindings.join("xlrs_component_type.o"))
            .arg("-o")
            .arg(&core),
    )?;
    let module = std::fs::read(&core)?;
    crate::plugin_tools::tooling::componentize(
        &module,
        Some(wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER),
    )
}

/// The `.c` files of the project folder (not its subfolders).
fn c_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    files.sort();
    Ok(files)
}

/// Copies the project's files into `to`, leaving out build output and installed packages.
fn copy_sources(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if matches!(name.to_str(), Some("target" | "node_modules" | ".git")) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_sources(&path, &to.join(&name))?;
        } else {
            std::fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}
