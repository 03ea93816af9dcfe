//! WebAssembly plugins: validators, transformers and storage backends loaded from the plugins directory, each
//! sandboxed (memory, time, no capabilities unless granted) and replaceable while serving.

pub mod authoring;
pub mod bindings;
mod engine;
mod http;
mod instance;
pub mod manifest;
mod pipeline;
mod registry;
pub mod threads;
pub mod tooling;

pub use instance::{CallFailure, PluginInstance};
pub use manifest::{Manifest, PluginKind};
pub use pipeline::{Pipeline, PipelineError};
pub use registry::{PluginPaths, PluginRegistry, RegistryError};
