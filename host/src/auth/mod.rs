//! Credentials and scopes: the credentials file, password hashing, and what a scope allows.

mod credentials;
mod scope;

pub use credentials::{
    write_private as write_private_file,
    authority_for, Credential, CredentialError, Credentials, CredentialsFile, Principal,
};
pub use scope::Scope;
