//! WebAssembly plugins: validators and transformers loaded from the plugins directory, each
//! sandboxed (memory, time, no capabilities unless granted) and replaceable while serving.

mod bindings;
mod engine;
mod instance;
pub mod manifest;
mod pipeline;
mod registry;
pub mod tooling;

pub use instance::CallFailure;
pub use manifest::{Manifest, PluginKind};
pub use pipeline::{Pipeline, PipelineError};
pub use registry::{PluginRegistry, RegistryError};
