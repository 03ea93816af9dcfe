//! The WIT bindings of the worlds (v0.1: validator, transformer, backend; v0.2: admission,
//! reactor, storage, and the validator and transformer that read fields),
//! generated once here so plugins never call `wit_bindgen` themselves. The transformer and backend worlds share the validator's `types`
//! and `host` modules, so one Rust type stands for each WIT type.

/// Bindings of the `validator` world (and the shared `types` and `host` interfaces).
#[allow(missing_docs)]
pub mod validator {
    wit_bindgen::generate!({
        world: "validator",
        path: "wit/v0.1",
        pub_export_macro: true,
        export_macro_name: "export_validator_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::validator",
    });
}

/// Bindings of the `transformer` world.
#[allow(missing_docs)]
pub mod transformer {
    wit_bindgen::generate!({
        world: "transformer",
        path: "wit/v0.1",
        pub_export_macro: true,
        export_macro_name: "export_transformer_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::transformer",
        with: {
            "xlrs:plugin/types@0.1.0": super::validator::xlrs::plugin::types,
            "xlrs:plugin/host@0.1.0": super::validator::xlrs::plugin::host,
        },
    });
}

/// Bindings of the `backend` world.
#[allow(missing_docs)]
pub mod backend {
    wit_bindgen::generate!({
        world: "backend",
        path: "wit/v0.1",
        pub_export_macro: true,
        export_macro_name: "export_backend_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::backend",
        with: {
            "xlrs:plugin/types@0.1.0": super::validator::xlrs::plugin::types,
            "xlrs:plugin/host@0.1.0": super::validator::xlrs::plugin::host,
        },
    });
}

/// Bindings of the `admission` world of the `wit/v0.2` contract (feature `admission`).
#[cfg(feature = "admission")]
#[allow(missing_docs)]
pub mod admission {
    wit_bindgen::generate!({
        world: "admission",
        path: "wit/v0.2",
        pub_export_macro: true,
        export_macro_name: "export_admission_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::admission",
    });
}

/// Bindings of the `reactor` world of the `wit/v0.2` contract (feature `reactor`).
#[cfg(feature = "reactor")]
#[allow(missing_docs)]
pub mod reactor {
    wit_bindgen::generate!({
        world: "reactor",
        path: "wit/v0.2",
        pub_export_macro: true,
        export_macro_name: "export_reactor_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::reactor",
    });
}

/// Bindings of the `validator` world of `wit/v0.2` (feature `fields`).
#[cfg(feature = "fields")]
#[allow(missing_docs)]
pub mod field_validator {
    wit_bindgen::generate!({
        world: "field-validator",
        path: "wit/v0.2",
        pub_export_macro: true,
        export_macro_name: "export_field_validator_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::field_validator",
    });
}

/// Bindings of the `transformer` world of `wit/v0.2` (feature `fields`).
#[cfg(feature = "fields")]
#[allow(missing_docs)]
pub mod field_transformer {
    wit_bindgen::generate!({
        world: "field-transformer",
        path: "wit/v0.2",
        pub_export_macro: true,
        export_macro_name: "export_field_transformer_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::field_transformer",
        with: {
            "xlrs:plugin/types@0.2.0": super::field_validator::xlrs::plugin::types,
            "xlrs:plugin/host@0.2.0": super::field_validator::xlrs::plugin::host,
            "xlrs:plugin/statements@0.2.0": super::field_validator::xlrs::plugin::statements,
        },
    });
}

/// Bindings of the `storage` world of `wit/v0.2` (feature `storage`).
#[cfg(feature = "storage")]
#[allow(missing_docs)]
pub mod storage {
    wit_bindgen::generate!({
        world: "storage",
        path: "wit/v0.2",
        pub_export_macro: true,
        export_macro_name: "export_storage_bindings",
        default_bindings_module: "xlrs_plugin_sdk::guest::bindings::storage",
    });
}

pub use validator::xlrs::plugin::{host, types};
