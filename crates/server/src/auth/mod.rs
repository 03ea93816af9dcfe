//! Credentials and scopes: the credentials file, password hashing, OIDC bearer tokens, and
//! what a scope allows.

mod credentials;
pub mod oidc;
mod scope;

pub use credentials::{
    authority_for, write_private as write_private_file, Credential, CredentialError, Credentials,
    CredentialsFile, Principal,
};
pub use scope::Scope;
