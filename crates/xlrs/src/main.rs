//! `xlrs`: the server and its command line (see the library: `cli`, the data toolbox
//! `toolbox`, plugin tooling `plugin_tools`).

/// mimalloc instead of the system allocator: statement handling allocates many small JSON
/// values per request, where glibc malloc took about a tenth of the server's CPU (issue 8).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    xlrs::run()
}
