//! Host bindings of the plugin contract, one module per world of `wit/v0.1`. The transformer
//! and backend bindings reuse the validator's `types` and `host` interfaces, so the host
//! functions are implemented once.

/// The `validator` world.
pub mod validator {
    wasmtime::component::bindgen!({ world: "validator", path: "../wit/v0.1" });
}

/// The `transformer` world.
pub mod transformer {
    wasmtime::component::bindgen!({
        world: "transformer",
        path: "../wit/v0.1",
        with: {
            "xlrs:plugin/types": super::validator::xlrs::plugin::types,
            "xlrs:plugin/host": super::validator::xlrs::plugin::host,
        },
    });
}

/// The `backend` world.
pub mod backend {
    wasmtime::component::bindgen!({
        world: "backend",
        path: "../wit/v0.1",
        with: {
            "xlrs:plugin/types": super::validator::xlrs::plugin::types,
            "xlrs:plugin/host": super::validator::xlrs::plugin::host,
        },
    });
}

pub use validator::xlrs::plugin::types::{
    Error as PluginError, IndexKey, Level, Page as PluginPage, StatementQuery as PluginQuery,
    StatementRecord, StoreError as PluginStoreError, StoredStatement as PluginStored,
};
