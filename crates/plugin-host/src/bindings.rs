//! Host bindings of the plugin contract, one module per world of `wit/v0.1`, and of
//! `wit/v0.2` in `v0_2` (both released and frozen). The transformer
//! and backend bindings reuse the validator's `types` and `host` interfaces, so the host
//! functions are implemented once.

/// The `validator` world.
#[allow(missing_docs)]
pub mod validator {
    wasmtime::component::bindgen!({ world: "validator", path: "../../plugin-sdk/wit/v0.1" });
}

/// The `transformer` world.
#[allow(missing_docs)]
pub mod transformer {
    wasmtime::component::bindgen!({
        world: "transformer",
        path: "../../plugin-sdk/wit/v0.1",
        with: {
            "xlrs:plugin/types": super::validator::xlrs::plugin::types,
            "xlrs:plugin/host": super::validator::xlrs::plugin::host,
        },
    });
}

/// The `backend` world.
#[allow(missing_docs)]
pub mod backend {
    wasmtime::component::bindgen!({
        world: "backend",
        path: "../../plugin-sdk/wit/v0.1",
        with: {
            "xlrs:plugin/types": super::validator::xlrs::plugin::types,
            "xlrs:plugin/host": super::validator::xlrs::plugin::host,
        },
    });
}

/// The worlds of the contract `wit/v0.2`.
pub mod v0_2 {
    /// The `admission` world.
    #[allow(missing_docs)]
    pub mod admission {
        wasmtime::component::bindgen!({ world: "admission", path: "../../plugin-sdk/wit/v0.2" });
    }

    /// The `reactor` world.
    #[allow(missing_docs)]
    pub mod reactor {
        wasmtime::component::bindgen!({
            world: "reactor",
            path: "../../plugin-sdk/wit/v0.2",
            with: {
                "xlrs:plugin/types": super::admission::xlrs::plugin::types,
                "xlrs:plugin/host": super::admission::xlrs::plugin::host,
            },
        });
    }

    /// The `field-validator` world: reads fields of statements the host holds.
    #[allow(missing_docs)]
    pub mod field_validator {
        wasmtime::component::bindgen!({
            world: "field-validator",
            path: "../../plugin-sdk/wit/v0.2",
            with: {
                "xlrs:plugin/types": super::admission::xlrs::plugin::types,
                "xlrs:plugin/host": super::admission::xlrs::plugin::host,
                "xlrs:plugin/statements.statement": crate::batch::Slot,
            },
        });
    }

    /// The `field-transformer` world: answers a change per statement.
    #[allow(missing_docs)]
    pub mod field_transformer {
        wasmtime::component::bindgen!({
            world: "field-transformer",
            path: "../../plugin-sdk/wit/v0.2",
            with: {
                "xlrs:plugin/types": super::admission::xlrs::plugin::types,
                "xlrs:plugin/host": super::admission::xlrs::plugin::host,
                "xlrs:plugin/statements": super::field_validator::xlrs::plugin::statements,
            },
        });
    }

    /// The `storage` world: a backend's primitives under the host's xAPI rules.
    #[allow(missing_docs)]
    pub mod storage {
        wasmtime::component::bindgen!({
            world: "storage",
            path: "../../plugin-sdk/wit/v0.2",
            with: {
                "xlrs:plugin/types": super::admission::xlrs::plugin::types,
                "xlrs:plugin/host": super::admission::xlrs::plugin::host,
            },
        });
    }

    pub use admission::xlrs::plugin::types::{
        Candidate, Change, IdStatus, IndexKey, ReactionError, Rejection, Row, ScanFilter,
        StatementRecord, StoreError, Verdict, Violation,
    };
}

pub use validator::xlrs::plugin::types::{
    Error as PluginError, IndexKey, Level, Page as PluginPage, StatementQuery as PluginQuery,
    StatementRecord, StoreError as PluginStoreError, StoredStatement as PluginStored,
};

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// SHA-256 of each released `wit/<version>/plugin.wit`.
    const RELEASED: [(&str, &[u8], &str); 2] = [
        (
            "v0.1",
            include_bytes!("../../../plugin-sdk/wit/v0.1/plugin.wit"),
            "4491049b7e61de28952a4493df5303fa41d0a13d3f803a159eb62fcbe3f83f52",
        ),
        (
            "v0.2",
            include_bytes!("../../../plugin-sdk/wit/v0.2/plugin.wit"),
            "f6606b9ac1751d674c51ccc394e5448b8c8596aac4cd37c903ec1bfbe92bc96b",
        ),
    ];

    #[test]
    fn a_released_wit_version_never_changes() {
        for (version, text, pinned) in RELEASED {
            assert_eq!(
                hex::encode(Sha256::digest(text)),
                pinned,
                "wit/{version} is frozen: put changes in a new version folder"
            );
        }
    }
}
