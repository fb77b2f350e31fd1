//! The command line: eight subcommands, parsed strictly (an unknown flag or a
//! missing value is an error, exit 2), since toolbox and an admission policy
//! both build and check these exact words. No flag changes where a recording
//! goes.

use std::ffi::OsString;
use std::fmt;

/// What the recorder was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run `argv` and record it as session `id`.
    Record(RecordArgs),
    /// Run `argv` as the container's process, its output going to the
    /// termination message, recorded as session `id` unless `unrecorded`.
    Run(RunArgs),
    /// One JSON line per recording in the sessions directory.
    Index,
    /// The bytes of one recording.
    Cat { id: String },
    /// Node paths as toolbox cp's stream on stdout, recorded as session `id`.
    Send(SendArgs),
    /// toolbox cp's stream from stdin into a node path, recorded as session `id`.
    Receive(ReceiveArgs),
    /// Run `argv` in one container's namespaces, found from its node.
    Enter(crate::enter::EnterArgs),
    /// Copy this binary to `dest` (the init container's job).
    Install { dest: OsString },
    /// `--help`: the usage text on stdout.
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordArgs {
    pub id: String,
    /// Record what is typed too (`"i"` events).
    pub input: bool,
    /// The command and its arguments; never empty.
    pub argv: Vec<OsString>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    pub id: String,
    /// Only the termination message: no recording (toolbox's --no-record).
    pub unrecorded: bool,
    /// The command and its arguments; never empty.
    pub argv: Vec<OsString>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendArgs {
    pub id: String,
    /// The node's paths, absolute; never empty.
    pub paths: Vec<OsString>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveArgs {
    pub id: String,
    /// Replace files and merge into directories that exist.
    pub force: bool,
    /// DEST is the name itself, never a directory to put the stream in (cp's -T).
    pub no_target_directory: bool,
    /// The node's path, absolute.
    pub dest: OsString,
}

/// A command line the recorder refuses: the message is one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub const USAGE: &str = "\
usage: toolbox-recorder record --id ID [--input] -- CMD [ARG...]
       toolbox-recorder run --id ID [--unrecorded] -- CMD [ARG...]
       toolbox-recorder index
       toolbox-recorder cat ID
       toolbox-recorder send --id ID -- PATH...
       toolbox-recorder receive --id ID [--force] [--no-target-directory] -- DEST
       toolbox-recorder enter --container-id ID --enter NS[,NS...] --label TEXT -- CMD [ARG...]
       toolbox-recorder install DEST
";

/// Parses the arguments after the program name.
pub fn parse(args: &[OsString]) -> Result<Command, UsageError> {
    let Some((sub, rest)) = args.split_first() else {
        return Err(UsageError(
            "a subcommand is needed: record, run, index, cat, send, receive, enter or install"
                .into(),
        ));
    };
    match sub.to_str() {
        Some("record") => {
            let (id, input, argv) = parse_command("record", "--input", rest)?;
            Ok(Command::Record(RecordArgs { id, input, argv }))
        }
        Some("run") => {
            let (id, unrecorded, argv) = parse_command("run", "--unrecorded", rest)?;
            Ok(Command::Run(RunArgs {
                id,
                unrecorded,
                argv,
            }))
        }
        Some("index") => {
            no_more("index", rest)?;
            Ok(Command::Index)
        }
        Some("cat") => {
            let id = one_operand("cat", "ID", rest)?;
            let id = id
                .to_str()
                .ok_or_else(|| UsageError("cat: the session id is not valid UTF-8".into()))?;
            validate_id(id)?;
            Ok(Command::Cat { id: id.to_owned() })
        }
        Some("send") => {
            let (id, _, paths) = parse_transfer("send", rest, &[])?;
            if paths.is_empty() {
                return Err(UsageError("send: a PATH is needed after --".into()));
            }
            Ok(Command::Send(SendArgs { id, paths }))
        }
        Some("receive") => {
            let flags = ["--force", "--no-target-directory"];
            let (id, given, operands) = parse_transfer("receive", rest, &flags)?;
            let [dest] = <[OsString; 1]>::try_from(operands).map_err(|operands| {
                UsageError(format!(
                    "receive: one DEST is needed after --, not {}",
                    operands.len()
                ))
            })?;
            Ok(Command::Receive(ReceiveArgs {
                id,
                force: given[0],
                no_target_directory: given[1],
                dest,
            }))
        }
        Some("enter") => parse_enter(rest).map(Command::Enter),
        Some("install") => Ok(Command::Install {
            dest: one_operand("install", "DEST", rest)?.clone(),
        }),
        Some("-h" | "--help" | "help") => Ok(Command::Help),
        _ => Err(UsageError(format!(
            "unknown subcommand {:?}: use record, run, index, cat, send, receive, enter or install",
            sub.to_string_lossy()
        ))),
    }
}

/// `--id ID`, the one boolean `flag` of `sub`, then `-- CMD [ARG...]`:
/// `record`'s and `run`'s command lines.
fn parse_command(
    sub: &str,
    flag: &str,
    args: &[OsString],
) -> Result<(String, bool, Vec<OsString>), UsageError> {
    let mut id = None;
    let mut given = false;
    let mut rest = args.iter();
    loop {
        let Some(arg) = rest.next() else {
            return Err(UsageError(format!(
                "{sub}: `-- CMD [ARG...]` is needed after the flags"
            )));
        };
        match arg.to_str() {
            Some("--") => break,
            Some(word) if word == flag && !given => given = true,
            Some("--id") if id.is_none() => {
                let value = rest
                    .next()
                    .ok_or_else(|| UsageError(format!("{sub}: --id needs a value")))?;
                id = Some(value.to_str().map(str::to_owned).ok_or_else(|| {
                    UsageError(format!("{sub}: the session id is not valid UTF-8"))
                })?);
            }
            Some(word) if word == flag || word == "--id" => {
                return Err(UsageError(format!("{sub}: {word} is given twice")));
            }
            _ => {
                return Err(UsageError(format!(
                    "{sub}: unknown argument {:?} (flags are --id ID and {flag}, then -- CMD)",
                    arg.to_string_lossy()
                )));
            }
        }
    }
    let id = id.ok_or_else(|| UsageError(format!("{sub}: --id ID is needed")))?;
    validate_id(&id)?;
    let argv: Vec<OsString> = rest.cloned().collect();
    if argv.is_empty() {
        return Err(UsageError(format!("{sub}: a command is needed after --")));
    }
    Ok((id, given, argv))
}

/// `--container-id ID --enter NS[,NS...] --label TEXT -- CMD [ARG...]`,
/// each flag once: the ID is a runtime's, 64 lowercase hex digits, so that
/// it matches a cgroup path and nothing else.
fn parse_enter(args: &[OsString]) -> Result<crate::enter::EnterArgs, UsageError> {
    use crate::enter::Kind;
    let mut values: [Option<String>; 3] = [None, None, None];
    let names = ["--container-id", "--enter", "--label"];
    let mut rest = args.iter();
    loop {
        let Some(arg) = rest.next() else {
            return Err(UsageError(
                "enter: `-- CMD [ARG...]` is needed after the flags".into(),
            ));
        };
        let word = arg.to_str();
        if word == Some("--") {
            break;
        }
        match names.iter().position(|name| Some(*name) == word) {
            Some(at) if values[at].is_none() => {
                let value = rest
                    .next()
                    .and_then(|v| v.to_str())
                    .ok_or_else(|| UsageError(format!("enter: {} needs a value", names[at])))?;
                values[at] = Some(value.to_owned());
            }
            _ => {
                return Err(UsageError(format!(
                    "enter: unknown or repeated argument {:?}",
                    arg.to_string_lossy()
                )));
            }
        }
    }
    let [Some(container_id), Some(enter), Some(label)] = values else {
        return Err(UsageError(
            "enter: --container-id, --enter and --label are all needed".into(),
        ));
    };
    if container_id.len() != 64
        || !container_id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(UsageError(format!(
            "enter: {container_id:?} is not a container ID (64 lowercase hex digits)"
        )));
    }
    let mut kinds = Vec::new();
    for word in enter.split(',') {
        let kind = Kind::parse(word).ok_or_else(|| {
            UsageError(format!(
                "enter: unknown namespace {word:?} (net, pid, mnt, ipc, uts)"
            ))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let argv: Vec<OsString> = rest.cloned().collect();
    if argv.is_empty() {
        return Err(UsageError("enter: a command is needed after --".into()));
    }
    Ok(crate::enter::EnterArgs {
        container_id,
        kinds,
        label,
        argv,
    })
}

/// `--id ID`, the boolean `flags` (which were given, in their order), then
/// `--` and the operands: node paths, each absolute.
fn parse_transfer(
    sub: &str,
    args: &[OsString],
    flags: &[&str],
) -> Result<(String, Vec<bool>, Vec<OsString>), UsageError> {
    let mut id = None;
    let mut given = vec![false; flags.len()];
    let mut rest = args.iter();
    loop {
        let Some(arg) = rest.next() else {
            return Err(UsageError(format!(
                "{sub}: `-- PATH...` is needed after the flags"
            )));
        };
        let word = arg.to_str();
        if word == Some("--") {
            break;
        }
        if word == Some("--id") && id.is_none() {
            let value = rest
                .next()
                .and_then(|v| v.to_str())
                .ok_or_else(|| UsageError(format!("{sub}: --id needs a value")))?;
            id = Some(value.to_owned());
            continue;
        }
        match flags.iter().position(|flag| Some(*flag) == word) {
            Some(at) if !given[at] => given[at] = true,
            _ => {
                return Err(UsageError(format!(
                    "{sub}: unknown or repeated argument {:?}",
                    arg.to_string_lossy()
                )));
            }
        }
    }
    let id = id.ok_or_else(|| UsageError(format!("{sub}: --id ID is needed")))?;
    validate_id(&id)?;
    let operands: Vec<OsString> = rest.cloned().collect();
    if let Some(relative) = operands
        .iter()
        .find(|path| !path.as_encoded_bytes().starts_with(b"/"))
    {
        return Err(UsageError(format!(
            "{sub}: {:?} is not absolute: paths are the node's own, from its /",
            relative.to_string_lossy()
        )));
    }
    Ok((id, given, operands))
}

fn no_more(sub: &str, rest: &[OsString]) -> Result<(), UsageError> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(UsageError(format!(
            "{sub}: unexpected argument {:?}",
            arg.to_string_lossy()
        ))),
    }
}

fn one_operand<'a>(
    sub: &str,
    name: &str,
    rest: &'a [OsString],
) -> Result<&'a OsString, UsageError> {
    match rest {
        [one] if !one.to_string_lossy().starts_with('-') => Ok(one),
        [] => Err(UsageError(format!("{sub}: {name} is needed"))),
        [one] => Err(UsageError(format!(
            "{sub}: unknown flag {:?}",
            one.to_string_lossy()
        ))),
        [_, extra, ..] => Err(UsageError(format!(
            "{sub}: unexpected argument {:?}",
            extra.to_string_lossy()
        ))),
    }
}

/// A session id names a file in the sessions directory, so it is kept to
/// `[A-Za-z0-9._-]{1,200}` without a leading dot: no separator, no `..`, no
/// hidden file.
pub fn validate_id(id: &str) -> Result<(), UsageError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if id.is_empty() || id.len() > 200 || id.starts_with('.') || !id.chars().all(allowed) {
        return Err(UsageError(format!(
            "invalid session id {id:?}: 1 to 200 of A-Z a-z 0-9 . _ -, not starting with a dot"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn record_takes_id_input_and_the_command_after_the_separator() {
        let parsed = parse(&args(&[
            "record", "--input", "--id", "n.1", "--", "sh", "-l", "--id",
        ]))
        .unwrap();
        assert_eq!(
            parsed,
            Command::Record(RecordArgs {
                id: "n.1".into(),
                input: true,
                argv: args(&["sh", "-l", "--id"]),
            })
        );
    }

    #[test]
    fn enter_takes_the_container_its_namespaces_and_the_command() {
        let id = "ab".repeat(32);
        let parsed = parse(&args(&[
            "enter",
            "--label",
            "pod a/b",
            "--enter",
            "net,pid,net",
            "--container-id",
            &id,
            "--",
            "ip",
            "addr",
        ]))
        .unwrap();
        assert_eq!(
            parsed,
            Command::Enter(crate::enter::EnterArgs {
                container_id: id.clone(),
                kinds: vec![crate::enter::Kind::Net, crate::enter::Kind::Pid],
                label: "pod a/b".into(),
                argv: args(&["ip", "addr"]),
            })
        );
        for (words, message) in [
            (
                vec!["--enter", "net", "--label", "x", "--", "sh"],
                "are all needed",
            ),
            (
                vec![
                    "--container-id",
                    "abc",
                    "--enter",
                    "net",
                    "--label",
                    "x",
                    "--",
                    "sh",
                ],
                "not a container ID",
            ),
            (
                vec![
                    "--container-id",
                    &id,
                    "--enter",
                    "user",
                    "--label",
                    "x",
                    "--",
                    "sh",
                ],
                "unknown namespace \"user\"",
            ),
            (
                vec![
                    "--container-id",
                    &id,
                    "--enter",
                    "net",
                    "--label",
                    "x",
                    "--",
                ],
                "a command is needed",
            ),
            (
                vec!["--container-id", &id, "--container-id", &id],
                "repeated",
            ),
        ] {
            let mut all = vec!["enter"];
            all.extend(words);
            let err = parse(&args(&all)).unwrap_err();
            assert!(err.0.contains(message), "{all:?}: {err}");
        }
    }

    #[test]
    fn record_refuses_what_it_does_not_know() {
        for (words, message) in [
            (
                &["record", "--id", "a", "sh"][..],
                "unknown argument \"sh\"",
            ),
            (&["record", "--id", "a"], "`-- CMD [ARG...]` is needed"),
            (&["record", "--id", "a", "--"], "a command is needed"),
            (&["record", "--", "sh"], "--id ID is needed"),
            (&["record", "--id"], "--id needs a value"),
            (
                &["record", "--id", "a", "--id", "b", "--", "sh"],
                "--id is given twice",
            ),
            (
                &["record", "--sink", "/tmp/x", "--id", "a", "--", "sh"],
                "unknown argument \"--sink\"",
            ),
            (&["record", "--id=a", "--", "sh"], "unknown argument"),
            (&["index", "/tmp"], "unexpected argument"),
            (&["cat"], "ID is needed"),
            (&["cat", "--all"], "unknown flag"),
            (&["install", "a", "b"], "unexpected argument \"b\""),
            (&["send", "--id", "a", "--"], "a PATH is needed"),
            (&["send", "--id", "a", "--", "var/log"], "is not absolute"),
            (&["send", "--", "/a"], "--id ID is needed"),
            (
                &["send", "--id", "a", "--force", "--", "/a"],
                "unknown or repeated",
            ),
            (&["send", "--id", "a", "/a"], "unknown or repeated"),
            (
                &["receive", "--id", "a", "--", "/a", "/b"],
                "one DEST is needed",
            ),
            (
                &["receive", "--id", "a", "--force", "--force", "--", "/a"],
                "unknown or repeated",
            ),
            (
                &["receive", "--id", "../x", "--", "/a"],
                "invalid session id",
            ),
            (&["play"], "unknown subcommand"),
            (&[], "a subcommand is needed"),
        ] {
            let err = parse(&args(words)).unwrap_err();
            assert!(err.0.contains(message), "{words:?}: {err}");
        }
    }

    #[test]
    fn send_and_receive_take_an_id_and_node_paths() {
        assert_eq!(
            parse(&args(&[
                "send",
                "--id",
                "n.1",
                "--",
                "/var/log/syslog",
                "/var/crash"
            ]))
            .unwrap(),
            Command::Send(SendArgs {
                id: "n.1".into(),
                paths: args(&["/var/log/syslog", "/var/crash"]),
            })
        );
        assert_eq!(
            parse(&args(&[
                "receive",
                "--no-target-directory",
                "--id",
                "n.1",
                "--force",
                "--",
                "/tmp/fix.sh"
            ]))
            .unwrap(),
            Command::Receive(ReceiveArgs {
                id: "n.1".into(),
                force: true,
                no_target_directory: true,
                dest: "/tmp/fix.sh".into(),
            })
        );
    }

    #[test]
    fn ids_are_file_names_and_nothing_else() {
        for good in [
            "real-0001.20261203T000000Z-0a1b2c3d",
            "a",
            "A_b-c.d",
            &"x".repeat(200),
        ] {
            assert!(validate_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".hidden",
            "..",
            "../etc/passwd",
            "a/b",
            "a b",
            "é",
            "a\0",
            &"x".repeat(201),
        ] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&args(&["cat", "../x"])).is_err());
        assert!(parse(&args(&["record", "--id", "a/b", "--", "sh"])).is_err());
    }
}
