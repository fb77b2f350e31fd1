//! `toolbox config`: the effective settings and where each value came from.

use clap::Args;
use serde::Serialize;

use crate::commands::App;
use crate::exit::{AppError, ExitStatus};
use crate::settings::{Source, known_keys};

/// Show the effective settings: built-in defaults, then the settings file,
/// then TOOLBOX_* environment variables, then flags.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = ["table", "json", "yaml"], default_value = "table")]
    pub output: String,
}

#[derive(Serialize)]
struct Entry {
    key: String,
    value: serde_json::Value,
    source: Source,
}

#[derive(Serialize)]
struct Report {
    file: Option<String>,
    settings: Vec<Entry>,
}

pub async fn run(args: ConfigArgs, app: &App) -> Result<ExitStatus, AppError> {
    let values = serde_json::to_value(&app.settings.settings).map_err(anyhow::Error::from)?;
    let mut keys = known_keys();
    keys.extend(app.settings.sources.keys().cloned());
    keys.sort();
    keys.dedup();
    let settings: Vec<Entry> = keys
        .into_iter()
        .map(|key| {
            let value = key
                .split('.')
                .try_fold(&values, |v, part| v.get(part))
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            Entry {
                source: app.settings.source_of(&key),
                key,
                value,
            }
        })
        .collect();
    let report = Report {
        file: app.settings.file.as_ref().map(|p| p.display().to_string()),
        settings,
    };
    let text = match args.output.as_str() {
        "json" => serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)? + "\n",
        "yaml" => serde_yaml::to_string(&report).map_err(anyhow::Error::from)?,
        _ => table(&report),
    };
    print!("{text}");
    Ok(ExitStatus::Success)
}

fn table(report: &Report) -> String {
    let rows: Vec<(String, String, String)> = report
        .settings
        .iter()
        .map(|e| {
            let value = match &e.value {
                serde_json::Value::Null => "<unset>".to_string(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (e.key.clone(), value, e.source.to_string())
        })
        .collect();
    let key_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(3).max(3);
    let value_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(5).max(5);
    let mut out = format!("{:key_width$}  {:value_width$}  SOURCE\n", "KEY", "VALUE");
    for (key, value, source) in rows {
        out.push_str(&format!(
            "{key:key_width$}  {value:value_width$}  {source}\n"
        ));
    }
    out
}
