//! Which clusters a command runs on when it runs on several: `--context`
//! repeated, `--contexts GLOB` or `--all-contexts`, read from the
//! kubeconfig as kubectl reads it ([`ContextArgs`], [`selected_contexts`]).
//! node-shell's and debug-node's runs, cleanup and sessions list take these
//! flags; what each does on every cluster is its own.

use toolbox_cluster::client::context::context_names;
use toolbox_cluster::{ClusterError, load_kubeconfig};

use crate::app::App;
use crate::exit::{AppError, usage};

const HEADING: &str = "Many clusters";

/// The flags that name several kubeconfig contexts; `--context`, repeatable,
/// is a global flag beside them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ContextArgs {
    /// Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own
    /// cluster; or repeat --context NAME
    #[arg(long, value_name = "GLOB", value_parser = parse_glob, conflicts_with_all = ["context", "all_contexts"], help_heading = HEADING)]
    pub contexts: Option<String>,

    /// Every context of the kubeconfig, each its own cluster
    #[arg(long, conflicts_with = "context", help_heading = HEADING)]
    pub all_contexts: bool,
}

impl ContextArgs {
    /// Whether these flags and `--context` name several clusters (see
    /// [`selected_contexts`]): a run on many nodes, even for one NODE.
    pub fn several(&self, app: &App) -> bool {
        app.global.context.len() > 1 || self.contexts.is_some() || self.all_contexts
    }
}

/// The contexts a command on several could not run on, with why. When
/// none answered, the first failure, named by its context, is the
/// command's error (with that failure's exit code, as for one cluster);
/// otherwise each is told in one `error:` line and they are handed back,
/// so the command can go on with the others and end non-zero.
pub fn tell_failures(
    mut failures: Vec<(String, AppError)>,
    none_answered: bool,
) -> Result<Vec<(String, AppError)>, AppError> {
    if none_answered && !failures.is_empty() {
        let (context, error) = failures.swap_remove(0);
        return Err(AppError::InContext {
            context,
            error: Box::new(error),
        });
    }
    for (context, err) in &failures {
        eprintln!(
            "error: {context}: {}",
            crate::invocation::name_commands(&err.to_string())
        );
    }
    Ok(failures)
}

/// The contexts to run on when the flags name several clusters: `None` for
/// none or one `--context`, which is today's single cluster. `--contexts`
/// and `--all-contexts` are several even when they find one, so that the
/// output's shape does not depend on how many match.
///
/// Named contexts must all be in the kubeconfig (a typo is told before any
/// cluster is asked); a glob that matches none is a usage error.
pub fn selected_contexts(app: &App, args: &ContextArgs) -> Result<Option<Vec<String>>, AppError> {
    if !args.several(app) {
        return Ok(None);
    }
    let named = &app.global.context;
    let kubeconfig =
        load_kubeconfig(app.global.kubeconfig.as_deref())?.ok_or(ClusterError::NoKubeconfig)?;
    let known = context_names(&kubeconfig);
    Ok(Some(choose(&known, named, args)?))
}

/// [`selected_contexts`] given the kubeconfig's context names.
fn choose(known: &[String], named: &[String], args: &ContextArgs) -> Result<Vec<String>, AppError> {
    let mut sorted = known.to_vec();
    sorted.sort();
    if args.all_contexts {
        if sorted.is_empty() {
            return Err(usage("--all-contexts: the kubeconfig has no contexts"));
        }
        return Ok(sorted);
    }
    if let Some(glob) = &args.contexts {
        let matching: Vec<String> = sorted
            .into_iter()
            .filter(|name| glob_matches(glob, name))
            .collect();
        if matching.is_empty() {
            return Err(usage(format!(
                "--contexts '{glob}' matches no context of the kubeconfig (its contexts: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        return Ok(matching);
    }
    let mut chosen: Vec<String> = Vec::new();
    for name in named {
        if !known.contains(name) {
            return Err(ClusterError::UnknownContext {
                name: name.clone(),
                valid: known.to_vec(),
            }
            .into());
        }
        if !chosen.contains(name) {
            chosen.push(name.clone());
        }
    }
    Ok(chosen)
}

/// A shell glob, checked to be whole: every `[` closed.
fn parse_glob(text: &str) -> Result<String, String> {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '[' && !chars.any(|c| c == ']') {
            return Err("a [ without its ] (a glob: *, ?, [abc], [a-z], [!a])".into());
        }
    }
    Ok(text.to_string())
}

/// Whether `name` matches the shell glob `pattern`: `*` any run of
/// characters, `?` one, `[abc]`, `[a-z]` and `[!a]` (or `[^a]`) one of a
/// set; anything else itself.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    matches_from(&pattern, &name)
}

fn matches_from(pattern: &[char], name: &[char]) -> bool {
    match pattern.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|skip| matches_from(&pattern[1..], &name[skip..])),
        Some('?') => !name.is_empty() && matches_from(&pattern[1..], &name[1..]),
        Some('[') => match (name.first(), class_end(pattern)) {
            (Some(c), Some(end)) => {
                in_class(&pattern[1..end], *c) && matches_from(&pattern[end + 1..], &name[1..])
            }
            (None, _) => false,
            // An unclosed [ is itself (parse_glob refuses it on the command line).
            (Some(c), None) => *c == '[' && matches_from(&pattern[1..], &name[1..]),
        },
        Some(literal) => name.first() == Some(literal) && matches_from(&pattern[1..], &name[1..]),
    }
}

/// Where the class opened at `pattern[0]` ends: a `]` first in it is a
/// member, as in the shell.
fn class_end(pattern: &[char]) -> Option<usize> {
    let first = if matches!(pattern.get(1), Some('!' | '^')) {
        2
    } else {
        1
    };
    (first + 1..pattern.len()).find(|&i| pattern[i] == ']')
}

fn in_class(class: &[char], c: char) -> bool {
    let (negated, members) = match class.first() {
        Some('!' | '^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut found = false;
    let mut i = 0;
    while i < members.len() {
        if i + 2 < members.len() && members[i + 1] == '-' {
            found |= members[i] <= c && c <= members[i + 2];
            i += 3;
        } else {
            found |= members[i] == c;
            i += 1;
        }
    }
    found != negated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn globs_match_as_a_shell_matches_file_names() {
        let cases = [
            ("prod-*", "prod-eu", true),
            ("prod-*", "prod-", true),
            ("prod-*", "staging-eu", false),
            ("*-eu", "prod-eu", true),
            ("*", "anything", true),
            ("kind-?", "kind-a", true),
            ("kind-?", "kind-ab", false),
            ("prod-[ae]u", "prod-eu", true),
            ("prod-[ae]u", "prod-us", false),
            ("c[1-3]", "c2", true),
            ("c[1-3]", "c4", false),
            ("c[!1-3]", "c4", true),
            ("c[^1-3]", "c2", false),
            ("[]x]", "]", true),
            ("exact", "exact", true),
            ("exact", "exact-not", false),
            ("a*b*c", "a-long-b-and-c", true),
            ("a*b*c", "a-long-c-and-b", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(glob_matches(pattern, name), want, "{pattern} on {name}");
        }
        assert!(parse_glob("prod-[ab").is_err());
        assert!(parse_glob("prod-[ab]*").is_ok());
    }

    #[test]
    fn the_flags_choose_contexts_from_the_kubeconfig() {
        let known = names(&["prod-us", "prod-eu", "staging"]);
        let all = ContextArgs {
            all_contexts: true,
            ..Default::default()
        };
        assert_eq!(
            choose(&known, &[], &all).unwrap(),
            ["prod-eu", "prod-us", "staging"]
        );
        let glob = ContextArgs {
            contexts: Some("prod-*".into()),
            ..Default::default()
        };
        assert_eq!(choose(&known, &[], &glob).unwrap(), ["prod-eu", "prod-us"]);
        let none = ContextArgs {
            contexts: Some("dev-*".into()),
            ..Default::default()
        };
        let err = choose(&known, &[], &none).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE);
        assert_eq!(
            err.to_string(),
            "--contexts 'dev-*' matches no context of the kubeconfig (its contexts: prod-us, prod-eu, staging)"
        );
        let named = names(&["staging", "prod-us", "staging"]);
        assert_eq!(
            choose(&known, &named, &ContextArgs::default()).unwrap(),
            ["staging", "prod-us"],
            "in the order given, each once"
        );
        let typo = names(&["staging", "prod-uk"]);
        assert!(
            choose(&known, &typo, &ContextArgs::default())
                .unwrap_err()
                .to_string()
                .starts_with("context \"prod-uk\" not found in kubeconfig")
        );
    }
}
