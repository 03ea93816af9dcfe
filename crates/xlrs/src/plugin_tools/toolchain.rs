//! The guest toolchains `xlrs plugin build` uses (DESIGN §8). The npm and PyPI ones are
//! installed on first use into a toolchains folder, pinned; the Debian ones are checked and,
//! when missing, named with the command that installs them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// componentize-js, which bundles the StarlingMonkey engine.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// componentize-py, which bundles CPython.
pub const COMPONENTIZE_PY: &str = "0.25.1";

/// Where toolchains go when `XLRS_PLUGIN_TOOLCHAINS` is not set: the user's cache folder.
pub fn default_toolchains_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("xlrs").join("toolchains")
}

/// Runs a command, failing with its name and exit status (its output goes to the terminal).
pub fn run(what: &str, command: &mut Command) -> anyhow::Result<()> {
    tracing::debug!(?command, "running");
    let status = command
        .status()
        .with_context(|| format!("cannot run {what} ({:?})", command.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Makes `final_dir` with `install` run in a fresh sibling folder, then renamed into place, so
/// two builds never see a half-installed toolchain.
fn install_once(
    final_dir: &Path,
    install: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if final_dir.is_dir() {
        return Ok(());
    }
    let parent = final_dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = parent.join(format!(
        ".{}-{}",
        final_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("toolchain"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let installed = install(&staging);
    if installed.is_ok() && std::fs::rename(&staging, final_dir).is_ok() {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&staging);
    installed?;
    // Another build installed it first.
    Ok(())
}

/// The folder holding componentize-js (`node_modules`) and the build script, installed with
/// npm on first use.
pub fn componentize_js(toolchains: &Path) -> anyhow::Result<PathBuf> {
    which("node", "Node.js 18 or newer (apt-get install nodejs npm)")?;
    let dir = toolchains.join(format!("componentize-js-{COMPONENTIZE_JS}"));
    install_once(&dir, |staging| {
        eprintln!(
            "installing componentize-js {COMPONENTIZE_JS} with npm into {}…",
            dir.display()
        );
        std::fs::write(staging.join("package.json"), "{\"private\": true}\n")?;
        run(
            "npm install",
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .arg(format!(
                    "@bytecodealliance/componentize-js@{COMPONENTIZE_JS}"
                ))
                .current_dir(staging),
        )
    })?;
    std::fs::write(dir.join("build.mjs"), JS_BUILD)?;
    Ok(dir)
}

/// The Node script that calls componentize-js (its CLI does not run here: DESIGN §8).
const JS_BUILD: &str = r#"// Written by `xlrs plugin build`: node build.mjs SOURCE WIT_DIR WORLD OUT
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
const [sourcePath, witPath, worldName, out] = process.argv.slice(2);
const { component } = await componentize({
  sourcePath, witPath, worldName, disableFeatures: ['http', 'fetch-event'],
});
await writeFile(out, component);
"#;

/// The Python of a virtual environment holding componentize-py, installed on first use.
pub fn componentize_py(toolchains: &Path) -> anyhow::Result<PathBuf> {
    which(
        "python3",
        "Python 3.10 or newer with venv (apt-get install python3-venv)",
    )?;
    let dir = toolchains.join(format!("componentize-py-{COMPONENTIZE_PY}"));
    install_once(&dir, |staging| {
        eprintln!(
            "installing componentize-py {COMPONENTIZE_PY} from PyPI into {}…",
            dir.display()
        );
        run(
            "python3 -m venv",
            Command::new("python3").arg("-m").arg("venv").arg(staging),
        )?;
        run(
            "pip install componentize-py",
            Command::new(staging.join("bin/python"))
                .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
                .arg(format!("componentize-py=={COMPONENTIZE_PY}")),
        )
    })?;
    Ok(dir.join("bin/python"))
}

/// Checks for Debian's Rust with its std source and LLVM's wasm linker (Rust guests build
/// std for wasm32 from source: rustup cannot add wasm targets on these machines).
pub fn rust_guest() -> anyhow::Result<()> {
    const INSTALL: &str = "apt-get install rustc-web cargo-web rust-web-src lld-22 \
                           (or scripts/install-wasm-toolchain.sh)";
    let sysroot = Command::new("/usr/bin/rustc")
        .args(["--print", "sysroot"])
        .output();
    let has_std_source = sysroot
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| {
            let root = String::from_utf8_lossy(&o.stdout).trim().to_string();
            Path::new(&root)
                .join("lib/rustlib/src/rust/library")
                .is_dir()
        });
    if !has_std_source || !Path::new("/usr/bin/cargo").is_file() {
        bail!("building a Rust plugin needs Debian's Rust with its std source: {INSTALL}");
    }
    which("wasm-ld-22", INSTALL)
}

/// Checks for clang and wasi-libc.
pub fn c_guest() -> anyhow::Result<()> {
    const INSTALL: &str = "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32 \
                           (or scripts/install-wasm-toolchain.sh)";
    which("clang", INSTALL)?;
    if !Path::new("/usr/lib/wasm32-wasi/libc.a").is_file() {
        bail!("building a C plugin needs wasi-libc: {INSTALL}");
    }
    Ok(())
}

/// Fails with what to install when `program` is not on PATH.
fn which(program: &str, install: &str) -> anyhow::Result<()> {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()));
    if !found {
        bail!("`{program}` is not installed: {install}");
    }
    Ok(())
}
