//! C bindings of a plugin world, generated with `wit-bindgen-c` from the embedded contract:
//! `xlrs.h`, `xlrs.c` and `xlrs_component_type.o` (the world renamed `xlrs` so the helper and
//! templates use the same names for every world).

use std::path::Path;

use anyhow::Context;
use wit_bindgen_core::Files;
use wit_parser::Resolve;

use xlrs_plugin_host::PluginKind;

/// Writes the C bindings of `kind`'s world into `dir`.
pub fn write_c_bindings(kind: PluginKind, dir: &Path) -> anyhow::Result<()> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("plugin.wit", super::WIT)?;
    let world = resolve.select_world(&[package], Some(kind.as_str()))?;
    let mut files = Files::default();
    let mut generator = wit_bindgen_c::Opts {
        rename_world: Some("xlrs".into()),
        ..Default::default()
    }
    .build();
    generator.generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in files.iter() {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
