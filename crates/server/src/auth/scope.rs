//! The xAPI (and Ralph) authorization scopes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One permission a credential holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    /// Write any statement.
    StatementsWrite,
    /// Read any statement.
    StatementsRead,
    /// Read statements whose authority is this credential's.
    StatementsReadMine,
    /// Read and write State documents.
    State,
    /// Read activity and agent definitions (Activities, Agents resources).
    Define,
    /// Read and write Activity and Agent Profile documents.
    Profile,
    /// Read everything.
    AllRead,
    /// Everything of the xAPI.
    All,
    /// The administration API under `/admin` (credentials); `all` does not include it.
    Admin,
}

impl Scope {
    /// Every scope with its wire name.
    pub const NAMES: [(Scope, &'static str); 9] = [
        (Scope::StatementsWrite, "statements/write"),
        (Scope::StatementsRead, "statements/read"),
        (Scope::StatementsReadMine, "statements/read/mine"),
        (Scope::State, "state"),
        (Scope::Define, "define"),
        (Scope::Profile, "profile"),
        (Scope::AllRead, "all/read"),
        (Scope::All, "all"),
        (Scope::Admin, "admin"),
    ];

    /// The scope's wire name.
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .unwrap_or("all")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(s, _)| *s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(_, n)| *n).collect();
                format!("unknown scope `{s}` (one of: {})", names.join(", "))
            })
    }
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.as_str().to_string()
    }
}
