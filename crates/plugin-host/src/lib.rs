//! The WebAssembly plugin host: validators, transformers and storage backends loaded from the
//! plugins directory, each sandboxed (memory, time, no capabilities unless granted) and
//! replaceable while serving.
//!
//! Files: `admission` (deciding about refused statements), `batch` (the statements a v0.2
//! validator or transformer reads, and a transformer's changes to them), `engine` (wasmtime, and the compiled-plugin cache), `bindings` (the host side of the
//! WIT contract), `manifest` (`plugin.toml`), `instance` (one loaded plugin and its calls), `limits` (what a call may use), `stderr`
//! (what a guest printed), `storage` (a backend's calls, v0.1 and v0.2),
//! `http` (granted outgoing HTTP), `pipeline` (validators then transformers over a batch),
//! `placement` (which calls run on the request's thread), `registry` (the directory, hot reload), `threads` (where plugin calls run).

pub mod admission;
mod batch;
pub mod bindings;
mod engine;
mod http;
mod instance;
mod limits;
pub mod manifest;
mod pipeline;
mod placement;
mod registry;
mod stderr;
mod storage;
pub mod threads;

pub use engine::{ArtifactCache, PluginEngine};
pub use instance::{contract, detect_kind, CallFailure, PluginInstance, PluginSpec};
pub use manifest::{Manifest, PluginKind};
pub use pipeline::{Handover, Pipeline, PipelineError, Progress, Rejection};
pub use placement::Placement;
pub use registry::{PluginPaths, PluginRegistry, RegistryError};
pub use storage::StorageResult;
