//! `toolbox version`: what this binary is (version, commit, build date,
//! rustc, the Kubernetes API it was built against) and, when the cluster
//! answers in time, the server's version.

use std::sync::LazyLock;
use std::time::Duration;

use clap::Args;
use k8s_openapi::apimachinery::pkg::version::Info;
use serde::Serialize;

use crate::app::App;
use crate::exit::{AppError, ExitStatus};

/// Show the version of toolbox and of the cluster's API server
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format; kubectl's clientVersion and serverVersion
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = ["json", "yaml"])]
    pub output: Option<String>,
}

/// How long the whole server query (connect, then /version) may take:
/// `version` must answer even when the cluster does not.
const SERVER_TIMEOUT: Duration = Duration::from_secs(2);

/// This build, in kubectl's `clientVersion` shape plus what a Rust build adds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientVersion {
    git_version: String,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    rustc_version: &'static str,
    kubernetes_api_version: &'static str,
    platform: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    client_version: ClientVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<Info>,
}

fn client_version() -> ClientVersion {
    ClientVersion {
        git_version: format!("v{}", env!("CARGO_PKG_VERSION")),
        git_commit: env!("TOOLBOX_GIT_COMMIT"),
        git_tree_state: tree_state(env!("TOOLBOX_GIT_DIRTY")),
        build_date: env!("TOOLBOX_BUILD_DATE"),
        rustc_version: env!("TOOLBOX_RUSTC_VERSION"),
        kubernetes_api_version: env!("TOOLBOX_K8S_API_VERSION"),
        platform: platform(std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// build.rs says "true", "false" or "unknown" (no git at build time).
fn tree_state(dirty: &str) -> &'static str {
    match dirty {
        "true" => "dirty",
        "false" => "clean",
        _ => "unknown",
    }
}

/// "linux/amd64": Go's names, as kubectl and the API server report theirs.
fn platform(os: &str, arch: &str) -> String {
    let os = match os {
        "macos" => "darwin",
        other => other,
    };
    let arch = match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}/{arch}")
}

/// The text of `toolbox --version`, for clap's `long_version`.
pub fn long_version() -> &'static str {
    static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
        let client = client_version();
        format!(
            "{}\ncommit: {}\nbuilt: {}\nrustc: {}\nkubernetes api: {}",
            env!("CARGO_PKG_VERSION"),
            commit_line(&client),
            client.build_date,
            client.rustc_version,
            client.kubernetes_api_version,
        )
    });
    LONG_VERSION.as_str()
}

fn commit_line(client: &ClientVersion) -> String {
    match client.git_tree_state {
        "dirty" => format!("{} (dirty)", client.git_commit),
        _ => client.git_commit.to_string(),
    }
}

pub async fn run(args: VersionArgs, app: &App) -> Result<ExitStatus, AppError> {
    let report = Report {
        client_version: client_version(),
        server_version: server_version(app).await,
    };
    if let Some(warning) = report
        .server_version
        .as_ref()
        .and_then(toolbox_cluster::client::versions::unsupported_server_warning)
    {
        eprintln!("warning: {warning}");
    }
    let text = match args.output.as_deref() {
        Some(format @ ("json" | "yaml")) => crate::output::document(&report, format)?,
        _ => plain(&report),
    };
    out!("{text}");
    Ok(ExitStatus::Success)
}

/// The server's /version, or None when there is no cluster to ask or it
/// does not answer within [`SERVER_TIMEOUT`]: neither is an error here.
async fn server_version(app: &App) -> Option<Info> {
    let query = async {
        let cluster = app.connect().await?;
        Ok::<_, AppError>(cluster.server_version().await?)
    };
    match tokio::time::timeout(SERVER_TIMEOUT, query).await {
        Ok(Ok(info)) => Some(info),
        Ok(Err(err)) => {
            tracing::debug!("no server version: {err}");
            None
        }
        Err(_) => {
            tracing::debug!(
                "no server version: the cluster did not answer within {}s",
                SERVER_TIMEOUT.as_secs()
            );
            None
        }
    }
}

fn plain(report: &Report) -> String {
    let client = &report.client_version;
    let mut out = format!(
        "toolbox version {}\n\
         commit:         {}\n\
         built:          {}\n\
         rustc:          {}\n\
         kubernetes api: {}\n",
        env!("CARGO_PKG_VERSION"),
        commit_line(client),
        client.build_date,
        client.rustc_version,
        client.kubernetes_api_version,
    );
    if let Some(server) = &report.server_version {
        out.push_str(&format!("server:         {}\n", server.git_version));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Info {
        Info {
            major: "1".into(),
            minor: "37".into(),
            git_version: "v1.37.2".into(),
            platform: "linux/amd64".into(),
            ..Info::default()
        }
    }

    #[test]
    fn json_names_every_client_field_and_omits_an_unanswered_server() {
        let report = Report {
            client_version: client_version(),
            server_version: None,
        };
        let json = serde_json::to_value(&report).unwrap();
        let client = json["clientVersion"].as_object().unwrap();
        for key in [
            "gitVersion",
            "gitCommit",
            "gitTreeState",
            "buildDate",
            "rustcVersion",
            "kubernetesApiVersion",
            "platform",
        ] {
            assert!(
                client.get(key).and_then(|v| v.as_str()).is_some(),
                "clientVersion.{key} in {json}"
            );
        }
        assert_eq!(client.len(), 7, "{json}");
        assert_eq!(
            client["gitVersion"],
            format!("v{}", env!("CARGO_PKG_VERSION"))
        );
        assert!(json.get("serverVersion").is_none(), "{json}");
    }

    #[test]
    fn json_and_yaml_carry_the_server_as_its_version_endpoint_says() {
        let report = Report {
            client_version: client_version(),
            server_version: Some(server()),
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["serverVersion"]["gitVersion"], "v1.37.2");
        assert_eq!(json["serverVersion"]["major"], "1");
        assert_eq!(json["serverVersion"]["minor"], "37");
        let yaml: serde_json::Value =
            serde_yaml::from_str(&serde_yaml::to_string(&report).unwrap()).unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn build_facts_have_their_expected_shape() {
        let client = client_version();
        assert!(
            client.git_commit == "unknown"
                || (client.git_commit.len() == 40
                    && client.git_commit.chars().all(|c| c.is_ascii_hexdigit())),
            "{}",
            client.git_commit
        );
        assert!(
            ["clean", "dirty", "unknown"].contains(&client.git_tree_state),
            "{}",
            client.git_tree_state
        );
        assert!(
            client.kubernetes_api_version.starts_with("v1."),
            "{}",
            client.kubernetes_api_version
        );
        // 2026-05-01T12:00:00Z
        let date = client.build_date.as_bytes();
        assert_eq!(date.len(), 20, "{}", client.build_date);
        assert_eq!((date[4], date[10], date[19]), (b'-', b'T', b'Z'));
    }

    #[test]
    fn tree_state_maps_the_build_scripts_answer() {
        assert_eq!(tree_state("true"), "dirty");
        assert_eq!(tree_state("false"), "clean");
        assert_eq!(tree_state("unknown"), "unknown");
    }

    #[test]
    fn platform_uses_go_names() {
        assert_eq!(platform("linux", "x86_64"), "linux/amd64");
        assert_eq!(platform("macos", "aarch64"), "darwin/arm64");
        assert_eq!(platform("linux", "riscv64"), "linux/riscv64");
    }

    #[test]
    fn plain_and_long_version_name_the_commit_and_the_server_when_it_answered() {
        let client = client_version();
        let commit = client.git_commit;
        let without = plain(&Report {
            client_version: client_version(),
            server_version: None,
        });
        assert!(without.starts_with(&format!("toolbox version {}\n", env!("CARGO_PKG_VERSION"))));
        assert!(without.contains(&format!("commit:         {commit}")));
        assert!(without.contains("kubernetes api: v1."));
        assert!(!without.contains("server"));
        let with = plain(&Report {
            client_version: client_version(),
            server_version: Some(server()),
        });
        assert!(with.ends_with("server:         v1.37.2\n"), "{with}");
        let long = long_version();
        assert!(long.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(long.contains(&format!("\ncommit: {commit}")), "{long}");
        assert!(long.contains("\nkubernetes api: v1."), "{long}");
    }
}
