//! Offline plugin tooling behind `xlrs plugin …`: turning a core module into a component,
//! describing a component, and running a validator or transformer over statements.

use std::path::Path;

use serde_json::Value;
use wasmtime::component::Component;

use xlrs_plugin_host::{
    contract, detect_kind, Manifest, Pipeline, PluginEngine, PluginInstance, PluginKind, PluginSpec,
};
use xlrs_xapi::version::XapiVersion;

/// Wraps a core WebAssembly module built with wit-bindgen into a component, using the
/// component-type metadata it embeds; a module importing WASI preview 1 (C with wasi-libc)
/// needs the adapter that maps it onto preview 2.
pub fn componentize(module: &[u8], wasi_adapter: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let mut encoder = wit_component::ComponentEncoder::default();
    encoder.module(module)?;
    if let Some(adapter) = wasi_adapter {
        encoder.adapter("wasi_snapshot_preview1", adapter)?;
    }
    encoder.validate(true).encode()
}

/// A component's world, WIT packages and imports, as `xlrs plugin check` prints them.
pub fn describe(bytes: &[u8]) -> anyhow::Result<Value> {
    let engine = PluginEngine::new(None)?;
    let component = Component::new(engine.engine(), bytes)?;
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(engine.engine())
        .map(|(n, _)| n.to_string())
        .collect();
    let exports: Vec<String> = ty
        .exports(engine.engine())
        .map(|(n, _)| n.to_string())
        .collect();
    let mut packages: Vec<String> = imports
        .iter()
        .filter_map(|i| {
            i.split_once('/').map(|(pkg, rest)| {
                let version = rest
                    .split_once('@')
                    .map(|(_, v)| format!("@{v}"))
                    .unwrap_or_default();
                format!("{pkg}{version}")
            })
        })
        .collect();
    packages.sort();
    packages.dedup();
    Ok(serde_json::json!({
        "world": detect_kind(&component, engine.engine()).map(|k| k.as_str()),
        "contract": contract(&component, engine.engine()),
        "packages": packages,
        "imports": imports,
        "exports": exports,
    }))
}

/// Loads one plugin outside a server (with an optional manifest for config and limits), as
/// the server would; its kind comes from the manifest or the component's exports.
pub fn instance(wasm: &Path, manifest: Option<&Path>) -> anyhow::Result<PluginInstance> {
    let bytes =
        std::fs::read(wasm).map_err(|e| anyhow::anyhow!("reading {}: {e}", wasm.display()))?;
    let manifest = match manifest {
        Some(path) => Manifest::read(path)?,
        None => Manifest::default(),
    };
    let engine = PluginEngine::new(None)?;
    let (component, hash) = engine.load(&bytes)?;
    let kind = manifest
        .kind
        .or_else(|| detect_kind(&component, engine.engine()))
        .ok_or_else(|| anyhow::anyhow!("the component exports neither validate nor transform"))?;
    let name = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin");
    let spec = PluginSpec {
        name: name.to_string(),
        kind,
        order: manifest.order,
        limits: manifest.limits,
        config: manifest.config_strings(),
        dir: None,
        http: manifest.capabilities.http.clone(),
        waive: manifest.admission.waivable(),
    };
    Ok(PluginInstance::new(&engine, spec, &component, hash)?)
}

/// Runs one plugin (with an optional manifest for config and limits) over a batch, as the
/// server would, and returns the batch it would store.
pub fn run(
    wasm: &Path,
    manifest: Option<&Path>,
    statements: Vec<Value>,
) -> anyhow::Result<Vec<Value>> {
    let instance = std::sync::Arc::new(instance(wasm, manifest)?);
    let mut pipeline = Pipeline::default();
    match instance.kind {
        PluginKind::Validator => pipeline.validators.push(instance),
        PluginKind::Transformer => pipeline.transformers.push(instance),
        PluginKind::Backend => anyhow::bail!(
            "a backend plugin stores statements; serve with XLRS_STORE={} instead",
            instance.name
        ),
        PluginKind::Admission => anyhow::bail!(
            "an admission plugin decides about statements the LRS refuses; load it in a plugins directory and send it some"
        ),
        PluginKind::Reactor => anyhow::bail!(
            "a reactor is called with stored statements; load it in a plugins directory and name it as a forwarding target (url = \"plugin:{}\")",
            instance.name
        ),
    }
    Ok(pipeline.run(statements, XapiVersion::V2_0_0)?)
}
