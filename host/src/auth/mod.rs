//! Credentials and scopes: the credentials file, password hashing, and what a scope allows.

mod credentials;
mod scope;

pub use credentials::{
    authority_for, write_private as write_private_file, Credential, CredentialError, Credentials,
    CredentialsFile, Principal,
};
pub use scope::Scope;
