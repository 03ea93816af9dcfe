//! What each subcommand does.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use xlrs_server::auth::home::CredentialHome;
use xlrs_server::auth::{CredentialError, Credentials};
use xlrs_server::settings::Settings;

use super::args::{AuthAction, ConvertArgs, PluginAction, ToolboxCommand};
use crate::toolbox::{ReadFrom, WriteTo};

/// `xlrs auth …`: on the credentials file, or (over a database store, unless `file`) on the
/// database's record the admin API manages.
pub fn auth(settings: &Settings, action: AuthAction, file: bool) -> anyhow::Result<()> {
    let action = with_password(action)?;
    if !file && settings.store.is_database() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting a runtime")?;
        return runtime.block_on(auth_in_database(settings, action));
    }
    let path = settings.auth_file();
    let place = path.display().to_string();
    let mut credentials = Credentials::read(&path)?;
    let done = apply(&mut credentials, &action)
        .map_err(|e| anyhow::anyhow!(format!("{e:#}").replace("{where}", &place)))?;
    if !matches!(action, AuthAction::List) {
        credentials.write(&path)?;
    }
    println!("{}", done.replace("{where}", &place));
    Ok(())
}

/// `action` with a password read from standard input when asked.
fn with_password(action: AuthAction) -> anyhow::Result<AuthAction> {
    Ok(match action {
        AuthAction::Add {
            username,
            password,
            password_stdin,
            scopes,
            agent,
        } => {
            let password = match (password, password_stdin) {
                (_, true) => {
                    let mut p = String::new();
                    std::io::stdin()
                        .read_to_string(&mut p)
                        .context("reading the password from stdin")?;
                    p.trim_end_matches(['\r', '\n']).to_string()
                }
                (Some(p), false) => p,
                (None, false) => anyhow::bail!("give --password or --password-stdin"),
            };
            AuthAction::Add {
                username,
                password: Some(password),
                password_stdin: false,
                scopes,
                agent,
            }
        }
        other => other,
    })
}

/// Applies `action` to `credentials`; what to print (`{where}`: where they are kept).
fn apply(credentials: &mut Credentials, action: &AuthAction) -> anyhow::Result<String> {
    Ok(match action {
        AuthAction::Add {
            username,
            password,
            scopes,
            agent,
            ..
        } => {
            let agent = agent
                .as_deref()
                .map(|a| serde_json::from_str(a).context("--agent is not JSON"))
                .transpose()?;
            let password = password.as_deref().unwrap_or_default();
            credentials.upsert(username, password, scopes.clone(), agent)?;
            format!("added credential `{username}` to {{where}}")
        }
        AuthAction::Import {
            file,
            restrict_by_scopes,
        } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let before = credentials.credentials.len();
            let notes = credentials.import_ralph(&text, *restrict_by_scopes)?;
            for note in &notes {
                eprintln!("xlrs: {note}");
            }
            format!(
                "imported the users of {} into {{where}} ({} credential(s), {} new)",
                file.display(),
                credentials.credentials.len(),
                credentials.credentials.len() - before
            )
        }
        AuthAction::List => {
            let lines: Vec<String> = credentials
                .credentials
                .iter()
                .map(|c| {
                    let scopes: Vec<&str> = c.scopes.iter().map(|s| s.as_str()).collect();
                    format!("{}\t{}", c.username, scopes.join(" "))
                })
                .collect();
            lines.join("\n")
        }
        AuthAction::Remove { username } => {
            if !credentials.remove(username) {
                anyhow::bail!("no credential `{username}` in {{where}}");
            }
            format!("removed credential `{username}`")
        }
    })
}

/// `xlrs auth …` on the credentials record of the database store the settings name.
async fn auth_in_database(settings: &Settings, action: AuthAction) -> anyhow::Result<()> {
    let stores = xlrs_server::open_stores(
        settings,
        &xlrs_plugin_host::PluginRegistry::open(settings.plugin_paths(), false)?,
    )
    .await
    .with_context(|| format!("opening the {} store", settings.store))?;
    let home = CredentialHome::Database(stores.documents);
    let place = format!("the {} database", settings.store);
    if matches!(action, AuthAction::List) {
        let mut credentials = home.read().await?;
        println!("{}", apply(&mut credentials, &action)?);
        return Ok(());
    }
    let done = home
        .change(None, |credentials| {
            apply(credentials, &action)
                .map_err(|e| CredentialError::Invalid(format!("{e:#}").replace("{where}", &place)))
        })
        .await?;
    println!("{}", done.replace("{where}", &place));
    Ok(())
}

/// `xlrs read|write|list`: opens the backend named, then reads, writes or lists it.
pub fn toolbox(settings: &Settings, command: ToolboxCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let args = match &command {
        ToolboxCommand::Read { backend, .. }
        | ToolboxCommand::Write { backend, .. }
        | ToolboxCommand::List { backend } => backend,
    };
    let backend = crate::toolbox::open(
        args.backend,
        &args.access(),
        args.path.as_deref(),
        settings,
        &runtime,
    )?;
    match &command {
        ToolboxCommand::Read {
            backend: args,
            skip,
            query,
            more,
            after,
        } => {
            let from = ReadFrom {
                skip: *skip,
                object: args.object.clone(),
                query: query.clone(),
                more: more.clone(),
                after: *after,
            };
            let n = backend.read(&from, &mut stdout)?;
            stdout.flush()?;
            eprintln!("{n} statement(s) read");
        }
        ToolboxCommand::Write {
            target, chunk_size, ..
        } => {
            let to = WriteTo {
                target: target.clone(),
                chunk: (*chunk_size).max(1),
            };
            let written = backend.write(&to, &mut std::io::stdin().lock())?;
            eprintln!("{} statement(s) {}", written.count, written.place);
        }
        ToolboxCommand::List { .. } => backend.list(&mut stdout)?,
    }
    stdout.flush()?;
    Ok(())
}

/// The input of a command taking a FILE argument, or stdin without one.
fn file_or_stdin(file: Option<&std::path::Path>) -> anyhow::Result<Box<dyn std::io::BufRead>> {
    Ok(match file {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    })
}

/// `xlrs convert --from edx`.
pub fn convert(settings: &Settings, args: ConvertArgs) -> anyhow::Result<()> {
    let dir = settings.plugins_dir().join("edx-to-xapi");
    let plugin = args.plugin.unwrap_or_else(|| dir.join("edx-to-xapi.wasm"));
    let manifest = args.manifest.or_else(|| {
        let beside = plugin.with_file_name("plugin.toml");
        let named = plugin.with_extension("toml");
        [beside, named].into_iter().find(|p| p.is_file())
    });
    if !plugin.is_file() {
        anyhow::bail!(
            "no converter at {}: build plugins/edx-to-xapi (scripts/build-plugins.sh) and install it there, or pass --plugin",
            plugin.display()
        );
    }
    let instance = crate::plugin_tools::tooling::instance(&plugin, manifest.as_deref())?;
    let mut input = file_or_stdin(args.file.as_deref())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let summary = crate::toolbox::convert::run(
        &instance,
        args.valid_only,
        &mut input,
        &mut out,
        &mut std::io::stderr(),
    )?;
    out.flush()?;
    eprintln!(
        "{} statement(s) written, {} event(s) of other types skipped, {} failed",
        summary.converted, summary.skipped, summary.failed
    );
    if summary.breaking_total() > 0 {
        let rules: Vec<String> = summary
            .breaking
            .iter()
            .map(|(rule, n)| format!("{rule}: {n}"))
            .collect();
        eprintln!(
            "{} statement(s) break xAPI as event-routing-backends' own do ({}); {}",
            summary.breaking_total(),
            rules.join(", "),
            if args.valid_only {
                "left out (--valid-only)"
            } else {
                "written as it makes them: an LRS stores them only with an admission plugin such as openedx-compat (docs/openedx.md); --valid-only leaves them out"
            }
        );
    }
    Ok(())
}

/// `xlrs validate`: true when every statement is valid.
pub fn validate(
    settings: &Settings,
    file: Option<PathBuf>,
    xapi_version: &str,
    plugins: bool,
) -> anyhow::Result<bool> {
    let version = xlrs_xapi::version::XapiVersion::from_header(xapi_version)
        .ok_or_else(|| anyhow::anyhow!("--xapi-version must be 2.0.0 or 1.0.3"))?;
    let registry = if plugins {
        Some(xlrs_plugin_host::PluginRegistry::open(
            settings.plugin_paths(),
            false,
        )?)
    } else {
        None
    };
    let pipeline = registry.as_ref().map(|r| r.pipeline());
    let input = file_or_stdin(file.as_deref())?;
    let summary = crate::toolbox::validate::run(
        input,
        std::io::stdout().lock(),
        version,
        pipeline.as_deref(),
    )?;
    eprintln!(
        "{} statement(s) checked, {} invalid",
        summary.checked, summary.invalid
    );
    Ok(summary.invalid == 0)
}

/// `xlrs plugin …`.
pub fn plugin(settings: &Settings, action: PluginAction) -> anyhow::Result<()> {
    use crate::plugin_tools::tooling;
    match action {
        PluginAction::Check { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let description = tooling::describe(&bytes)?;
            println!("{}", serde_json::to_string_pretty(&description)?);
        }
        PluginAction::List => {
            let registry = xlrs_plugin_host::PluginRegistry::open(settings.plugin_paths(), false)?;
            println!("{}", serde_json::to_string_pretty(&registry.status())?);
        }
        PluginAction::Run { file, manifest } => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading statements from stdin")?;
            let statements = match serde_json::from_str(&input).context("stdin is not JSON")? {
                serde_json::Value::Array(items) => items,
                one => vec![one],
            };
            let out = tooling::run(&file, manifest.as_deref(), statements)?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        PluginAction::New {
            name,
            kind,
            lang,
            dir,
            sdk,
        } => {
            let project =
                crate::plugin_tools::new_project(&name, kind, lang, &dir, sdk.as_deref())?;
            println!("{}", project.display());
            eprintln!("build it with: xlrs plugin build {}", project.display());
        }
        PluginAction::Build {
            dir,
            output,
            toolchains,
        } => {
            let toolchains = toolchains
                .or_else(|| settings.plugin_toolchains.clone())
                .unwrap_or_else(crate::plugin_tools::default_toolchains_dir);
            let out = crate::plugin_tools::build(&dir, output.as_deref(), &toolchains)?;
            println!("{}", out.display());
        }
        PluginAction::Componentize { module, output } => {
            let bytes =
                std::fs::read(&module).with_context(|| format!("reading {}", module.display()))?;
            let component = tooling::componentize(&bytes, None)?;
            std::fs::write(&output, component)
                .with_context(|| format!("writing {}", output.display()))?;
        }
    }
    Ok(())
}
