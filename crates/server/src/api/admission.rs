//! Statements the host's validation refuses go to the admission plugins, which may admit them
//! (as sent, waiving the rules they break, or repaired). Nothing admitted is silent: each is
//! counted in `/metrics` by plugin and rule, logged (at most a few lines a minute, then a
//! count), and recorded in the admission log for `GET /admissions`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;
use xlrs_plugin_host::admission::{Decision, Refused};
use xlrs_plugin_host::PipelineError;
use xlrs_store::positions::now_micros;
use xlrs_store::AdmissionRecord;
use xlrs_xapi::validate::{validate_statement, violations, Rule};
use xlrs_xapi::version::XapiVersion;

use super::{ApiError, AppState, Authenticated};

/// A statement of a batch that admission let through.
#[derive(Debug, Clone)]
pub(super) struct Admitted {
    /// Its index in the batch.
    pub(super) index: usize,
    /// The plugin that admitted it.
    pub(super) plugin: String,
    /// The rules it broke as sent.
    pub(super) rules: Vec<Rule>,
    /// Stored as the plugin's repair rather than as sent.
    pub(super) repaired: bool,
}

impl Admitted {
    /// The rules a transformer's output of this statement may still break.
    pub(super) fn waived(&self) -> Vec<Rule> {
        if self.repaired {
            Vec::new()
        } else {
            self.rules.clone()
        }
    }
}

/// Validates every statement of a batch. Without admission plugins the first statement that
/// breaks a rule fails the batch (400), as the spec wants; with them, every refused statement
/// is offered to them, and the batch fails at the first one none admits. Repaired statements
/// replace their originals in `statements`.
pub(super) async fn validate(
    state: &AppState,
    auth: &Authenticated,
    statements: &mut [Value],
    version: XapiVersion,
) -> Result<Vec<Admitted>, ApiError> {
    let batch = statements.len() > 1;
    let pipeline = state.plugins.pipeline();
    let mut refused: Vec<(usize, Refused)> = Vec::new();
    for (i, statement) in statements.iter().enumerate() {
        if let Err(e) = validate_statement(statement, version) {
            if pipeline.admits_nothing() {
                return Err(ApiError::invalid(e, batch.then_some(i)));
            }
            refused.push((
                i,
                Refused {
                    statement: statement.clone(),
                    violations: violations(statement, version),
                },
            ));
        }
    }
    if refused.is_empty() {
        return Ok(Vec::new());
    }
    let offered: Vec<Refused> = refused.iter().map(|(_, r)| r.clone()).collect();
    let credential = auth.0.username.clone();
    let decisions =
        xlrs_plugin_host::threads::run(move || pipeline.admit(&credential, &offered, version))
            .await
            .map_err(|e| ApiError::Internal(format!("plugin task failed: {e}")))?
            .map_err(|e| match e {
                PipelineError::Failed { .. } => ApiError::PluginFailed(e.to_string()),
                e => ApiError::Internal(e.to_string()),
            })?;
    let mut admitted = Vec::new();
    for ((index, refused), decision) in refused.into_iter().zip(decisions) {
        let at = batch.then_some(index);
        let (plugin, rules, repaired) = match decision {
            Decision::Refused => {
                let first = refused.violations.into_iter().next();
                return Err(match first {
                    Some(e) => ApiError::invalid(e, at),
                    None => ApiError::bad("the statement is invalid"),
                });
            }
            Decision::Disallowed { plugin, reason } => {
                return Err(ApiError::BadRequest {
                    message: match at {
                        Some(i) => format!("statement {i}: admission plugin `{plugin}` {reason}"),
                        None => format!("admission plugin `{plugin}` {reason}"),
                    },
                    field: refused.violations.first().map(|v| v.path.clone()),
                    statement_index: at,
                });
            }
            Decision::AsSent { plugin, rules } => (plugin, rules, false),
            Decision::Replaced {
                plugin,
                statement,
                rules,
            } => {
                statements[index] = statement;
                (plugin, rules, true)
            }
        };
        admitted.push(Admitted {
            index,
            plugin,
            rules,
            repaired,
        });
    }
    Ok(admitted)
}

/// The admission records of a batch about to be stored under `ids`, by index in the batch
/// (a database store writes each with its statement, see `PreparedStatement::admission`).
pub(super) fn records_of(
    auth: &Authenticated,
    admitted: &[Admitted],
    ids: &[Uuid],
) -> Vec<(usize, AdmissionRecord)> {
    let at = now_micros();
    admitted
        .iter()
        .filter_map(|a| {
            let &id = ids.get(a.index)?;
            Some((
                a.index,
                AdmissionRecord {
                    seq: 0,
                    statement: id,
                    plugin: a.plugin.clone(),
                    rules: a.rules.iter().map(|r| r.to_string()).collect(),
                    repaired: a.repaired,
                    credential: auth.0.username.clone(),
                    at,
                },
            ))
        })
        .collect()
}

/// Makes the admissions of a stored batch visible: counted, logged, and kept where the store
/// keeps records apart from the statements. A failure to keep them is logged, never the
/// client's: the statements are stored.
pub(super) async fn record(
    state: &AppState,
    admitted: &[Admitted],
    records: Vec<(usize, AdmissionRecord)>,
) {
    if records.is_empty() {
        return;
    }
    for a in admitted
        .iter()
        .filter(|a| records.iter().any(|(i, _)| *i == a.index))
    {
        state
            .metrics
            .count_admission(&a.plugin, &a.rules, a.repaired);
    }
    for (_, r) in &records {
        state.admission_log.line(|| {
            tracing::warn!(
                statement = %r.statement,
                plugin = %r.plugin,
                rules = %r.rules.join(","),
                credential = %r.credential,
                "{}",
                if r.repaired {
                    "stored the admission plugin's repair of an invalid statement"
                } else {
                    "stored an invalid statement as sent, its rules waived by an admission plugin"
                }
            )
        });
    }
    let records = records.into_iter().map(|(_, r)| r).collect();
    if let Err(e) = state.admissions.keep_admissions(records).await {
        tracing::error!(error = %e, "admitted statements are stored but not recorded in /admissions");
    }
}

/// Log lines, at most `LINES` per `WINDOW`; what is held back is counted in one line when the
/// next window opens.
#[derive(Debug, Default)]
pub struct LogLimit {
    state: Mutex<Option<(Instant, u32, u64)>>,
}

/// Lines written per window.
const LINES: u32 = 20;
/// The window.
const WINDOW: Duration = Duration::from_secs(60);

impl LogLimit {
    /// Writes the line `log` writes, unless the window's lines are spent.
    pub fn line(&self, log: impl FnOnce()) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (start, written, held) = state.get_or_insert((now, 0, 0));
        if now.duration_since(*start) >= WINDOW {
            if *held > 0 {
                tracing::warn!(
                    held_back = *held,
                    "more statements were admitted with waivers than logged (see /metrics and /admissions)"
                );
            }
            *start = now;
            *written = 0;
            *held = 0;
        }
        if *written < LINES {
            *written += 1;
            log();
        } else {
            *held += 1;
        }
    }
}

/// `GET /admissions?after=N&limit=M`: the statements stored by admission, oldest first.
pub(super) async fn list(
    axum::extract::State(state): axum::extract::State<AppState>,
    auth: Authenticated,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    auth.require(&[crate::auth::Scope::AllRead], false)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let records = state.admissions.admissions(query.after, limit).await?;
    let more = (records.len() == limit)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    let listed: Vec<Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "seq": r.seq,
                "statement": r.statement.to_string(),
                "plugin": r.plugin,
                "rules": r.rules,
                "repaired": r.repaired,
                "credential": r.credential,
                "at": xlrs_xapi::time::format_micros(r.at),
            })
        })
        .collect();
    Ok(axum::Json(
        serde_json::json!({ "admissions": listed, "after": more }),
    ))
}

/// The parameters of `GET /admissions`.
#[derive(Debug, serde::Deserialize)]
pub(super) struct ListQuery {
    /// Resume after this position (the `after` of the previous answer).
    after: Option<i64>,
    /// Most records (default 100, at most 1000).
    limit: Option<usize>,
}
