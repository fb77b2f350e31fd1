//! `toolbox config`: the effective settings and where each value came from.

use clap::Args;
use serde::Serialize;

use crate::app::App;
use crate::exit::{AppError, ExitStatus};
use crate::settings::{LoadedSettings, Source, known_keys};

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
    let report = report(&app.settings)?;
    let text = match args.output.as_str() {
        "json" => serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)? + "\n",
        "yaml" => serde_yaml::to_string(&report).map_err(anyhow::Error::from)?,
        _ => table(&report),
    };
    out!("{text}");
    Ok(ExitStatus::Success)
}

/// Every key, set or not, with its value and source.
fn report(loaded: &LoadedSettings) -> Result<Report, AppError> {
    let values = serde_json::to_value(&loaded.settings).map_err(anyhow::Error::from)?;
    let mut keys = known_keys();
    keys.extend(loaded.sources.keys().cloned());
    keys.sort();
    keys.dedup();
    let settings = keys
        .into_iter()
        .map(|key| {
            let value = key
                .split('.')
                .try_fold(&values, |v, part| v.get(part))
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            Entry {
                source: loaded.source_of(&key),
                key,
                value,
            }
        })
        .collect();
    Ok(Report {
        file: loaded.file.as_ref().map(|p| p.display().to_string()),
        settings,
    })
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::settings;

    #[test]
    fn a_map_from_the_file_or_the_environment_is_shown_with_that_source() {
        let dir = std::env::temp_dir().join(format!("toolbox-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, "[labels]\nteam = \"sre\"\n").unwrap();
        let env = BTreeMap::from([(
            "TOOLBOX_ANNOTATIONS__TICKET".to_string(),
            "INC-1".to_string(),
        )]);
        let loaded = settings::load(Some(&path), &env).unwrap();
        let _ = std::fs::remove_dir_all(&dir);

        let text = table(&report(&loaded).unwrap());
        let row = |key: &str| {
            text.lines()
                .find(|line| line.split_whitespace().next() == Some(key))
                .unwrap_or_else(|| panic!("no row {key}: {text}"))
                .split_whitespace()
                .skip(2)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let file = format!("file {}", path.display());
        assert_eq!(row("labels"), file);
        assert_eq!(row("labels.team"), file);
        assert_eq!(row("annotations"), "env TOOLBOX_ANNOTATIONS__TICKET");
        assert_eq!(row("ttl"), "default");
    }
}
