//! Plugin tooling behind `xlrs plugin …`: project templates for Rust, JavaScript, Python and C
//! (`new`), one build command per language that installs the pinned toolchain it can install
//! (npm, PyPI) and names the Debian packages it cannot (`build`), and turning, describing and
//! running components (`tooling`).

mod build;
mod c_bindings;
mod scaffold;
mod toolchain;
pub mod tooling;

pub use build::build;
pub use c_bindings::write_c_bindings;
pub use scaffold::new_project;
pub use toolchain::default_toolchains_dir;

/// The released plugin contract (`wit/v0.1`, frozen): what C builds and JavaScript and Python
/// builds without `contract = "0.2"` compile against.
pub const WIT: &str = include_str!("../../../../plugin-sdk/wit/v0.1/plugin.wit");

/// The second contract (`wit/v0.2`, frozen): field validators and transformers, admission, reactors, storage.
pub const WIT_V0_2: &str = include_str!("../../../../plugin-sdk/wit/v0.2/plugin.wit");

/// A language plugins are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust with `xlrs-plugin-sdk`.
    Rust,
    /// JavaScript (componentize-js).
    Js,
    /// Python (componentize-py).
    Python,
    /// C (wit-bindgen C bindings, clang and wasi-libc).
    C,
}

impl Lang {
    /// The language's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::Js => "js",
            Self::Python => "python",
            Self::C => "c",
        }
    }
}

/// Writes a contract to `dir/plugin.wit` (the folder tools read the WIT from).
fn write_wit(dir: &std::path::Path, wit: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("plugin.wit"), wit)
}
