//! Credentials and scopes: the credentials file, password hashing, OIDC bearer tokens, what a
//! scope allows, and importing Ralph's credentials file.

mod credentials;
pub mod home;
pub mod oidc;
mod ralph;
mod scope;

pub use credentials::{
    authority_for, hash_password, write_private as write_private_file, Credential, CredentialError,
    Credentials, CredentialsFile, Principal, Source,
};
pub use scope::Scope;
