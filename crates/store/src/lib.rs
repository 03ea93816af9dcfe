//! The store contract of xlrs: one object-safe async trait per concern ([`StatementStore`],
//! [`DocumentStore`], [`ContentStore`], [`AdmissionLog`]), what every store shares (the duplicate, conflict and
//! voiding rules, `stored` positions, group commit, adopting statements Ralph wrote, paging),
//! and the contract suite every store passes (feature `contract`). Stores never see HTTP.

pub mod adopt;
pub mod coalesced;
#[cfg(feature = "contract")]
pub mod contract;
pub mod definitions;
mod documents;
mod error;
pub mod group_commit;
pub mod ledger;
pub mod lifecycle;
pub mod metered;
pub mod page;
pub mod positions;
pub mod rules;
pub mod settings;
mod statements;

pub use documents::{Document, DocumentKind, DocumentScope, DocumentStore, Precondition};
pub use error::StoreError;
pub use statements::{
    AdmissionLog, AdmissionRecord, Attachment, ContentStore, Definition, Page, StatementStore,
    StoreGauges, StoredStatement, Stores,
};
