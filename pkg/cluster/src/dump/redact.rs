//! Secrets kept out of a bundle: what is read from a node passes through a
//! [`Redactor`] line by line before it is written, and the index says how
//! many of each kind were taken out (never the values). Pure.
//!
//! What is taken out:
//! - the value of a YAML or JSON key that names a secret (`token`,
//!   `password`, `secret`, `client-key-data`, `apiKey`, ...), block
//!   scalars included; a key that names where a secret is (`tokenFile`,
//!   `tlsPrivateKeyFile`, `secretName`) or a bare `key` (a taint's, a
//!   label selector's) is kept;
//! - the same names as command-line flags (`--token=...`, `--password X`);
//! - PEM private-key blocks, whole or inside one line (a JSON string);
//! - bearer tokens (`Authorization: Bearer ...`) and JWTs.
//!
//! Text that is not UTF-8 is redacted as bytes, so a binary item passes
//! through unchanged unless it holds one of the above.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::bytes::{Captures, Regex};
use serde::Serialize;

/// What stands in for a value taken out.
pub const REDACTED: &str = "[REDACTED]";

/// The kinds of secret taken out, as the index names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The value of a key that names a secret (YAML or JSON).
    SecretKey,
    /// The value of a flag that names a secret.
    SecretFlag,
    /// A PEM private-key block.
    PrivateKey,
    /// `Bearer` and the token after it.
    BearerToken,
    /// A JSON Web Token.
    Jwt,
}

/// What was taken out of one item: how many of each kind.
pub type Counts = BTreeMap<Kind, u64>;

/// Longest line kept whole; a longer one is redacted in pieces this long,
/// so that memory stays bounded whatever a node sends.
const MAX_LINE: usize = 1024 * 1024;

/// Redacts a stream, one line at a time; [`Redactor::finish`] flushes the
/// last line.
#[derive(Debug, Default)]
pub struct Redactor {
    pending: Vec<u8>,
    /// Inside a PEM private-key block that began on an earlier line.
    in_private_key: bool,
    /// Inside a secret key's block scalar (`token: |`): the key's indent.
    in_block: Option<usize>,
    counts: Counts,
}

static JSON_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""([A-Za-z0-9_.\-/]+)"(\s*:\s*)"((?:[^"\\]|\\.)*)""#).expect("valid regex")
});
static YAML_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(\s*(?:-\s+)?)(['"]?)([A-Za-z0-9_.\-/]+)(['"]?)(\s*:[ \t]+)(.*?)\s*$"#)
        .expect("valid regex")
});
static FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(^|\s)(--?[A-Za-z0-9][A-Za-z0-9_\-]*)(=|[ \t]+)("[^"]*"|'[^']*'|[^\s"']+)"#)
        .expect("valid regex")
});
static PRIVATE_KEY_INLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(-----END [A-Z0-9 ]*PRIVATE KEY-----)")
        .expect("valid regex")
});
static PRIVATE_KEY_BEGIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----").expect("valid regex"));
static PRIVATE_KEY_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY-----").expect("valid regex"));
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*").expect("valid regex")
});
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
        .expect("valid regex")
});

/// Whether a key or flag names a secret's value (not where one is kept).
pub fn names_a_secret(name: &str) -> bool {
    let name: String = name
        .rsplit('/')
        .next()
        .unwrap_or(name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const WHERE_OR_WHAT: &[&str] = &[
        "file",
        "files",
        "path",
        "paths",
        "dir",
        "directory",
        "ref",
        "name",
        "names",
        "id",
        "ids",
        "type",
        "kind",
        "usage",
        "usages",
        "mode",
        "ttl",
        "seconds",
        "enabled",
        "source",
        "namespace",
        "policy",
        "algorithm",
        "length",
        "size",
        "url",
        "uri",
        "endpoint",
        "config",
        "configuration",
        "strategy",
        "webhook",
        "provider",
        "plugin",
        "cache",
        "duration",
        "period",
        "timeout",
        "interval",
        "limit",
        "audience",
        "audiences",
        "format",
        "version",
        "expiration",
        "expirationseconds",
    ];
    if name == "key" || WHERE_OR_WHAT.iter().any(|suffix| name.ends_with(suffix)) {
        return false;
    }
    const SECRET: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "credential",
        "privatekey",
        "apikey",
        "accesskey",
        "keydata",
    ];
    SECRET.iter().any(|word| name.contains(word)) || name.ends_with("key")
}

impl Redactor {
    /// Redacts what of `bytes` ends a line into `out`; the rest waits for
    /// the next call, or [`Redactor::finish`].
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) {
        while let Some(at) = bytes.iter().position(|&b| b == b'\n') {
            let (line, rest) = bytes.split_at(at + 1);
            if self.pending.is_empty() {
                self.line(line, out);
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.line(&whole, out);
            }
            bytes = rest;
        }
        self.pending.extend_from_slice(bytes);
        while self.pending.len() >= MAX_LINE {
            let rest = self.pending.split_off(MAX_LINE);
            let piece = std::mem::replace(&mut self.pending, rest);
            self.line(&piece, out);
        }
    }

    /// Redacts the last line, which has no newline.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let last = std::mem::take(&mut self.pending);
        if !last.is_empty() {
            self.line(&last, out);
        }
    }

    /// What was taken out so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    fn count(&mut self, kind: Kind) {
        *self.counts.entry(kind).or_default() += 1;
    }

    /// One line, with its newline if it has one.
    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let (text, newline) = match line.strip_suffix(b"\n") {
            Some(text) => (text, &b"\n"[..]),
            None => (line, &b""[..]),
        };
        if self.in_private_key {
            if let Some(end) = PRIVATE_KEY_END.find(text) {
                self.in_private_key = false;
                out.extend_from_slice(&text[end.start()..]);
                out.extend_from_slice(newline);
            }
            return;
        }
        if let Some(indent) = self.in_block {
            let blank = text.iter().all(u8::is_ascii_whitespace);
            if blank || leading_spaces(text) > indent {
                return;
            }
            self.in_block = None;
        }
        let mut text = self.private_keys(text);
        let open_block = PRIVATE_KEY_BEGIN
            .find_iter(&text)
            .last()
            .filter(|begin| !PRIVATE_KEY_END.is_match(&text[begin.end()..]));
        if let Some(begin) = open_block {
            // A block that goes on below: its lines are dropped up to END.
            self.in_private_key = true;
            self.count(Kind::PrivateKey);
            text.truncate(begin.end());
            text.extend_from_slice(b"\n");
            text.extend_from_slice(REDACTED.as_bytes());
        }
        let text = self.pairs(&text);
        let text = self.flags(&text);
        let text = self.replace(&BEARER, &text, Kind::BearerToken, |c| {
            [&c[1], &c[2], REDACTED.as_bytes()].concat()
        });
        let text = self.replace(&JWT, &text, Kind::Jwt, |_| REDACTED.as_bytes().to_vec());
        out.extend_from_slice(&text);
        out.extend_from_slice(newline);
    }

    fn private_keys(&mut self, text: &[u8]) -> Vec<u8> {
        self.replace(&PRIVATE_KEY_INLINE, text, Kind::PrivateKey, |c| {
            [&c[1], REDACTED.as_bytes(), &c[2]].concat()
        })
    }

    /// JSON pairs anywhere in the line; else the line as one YAML pair.
    fn pairs(&mut self, text: &[u8]) -> Vec<u8> {
        let mut found = false;
        let json = self.replace_if(
            &JSON_PAIR,
            text,
            Kind::SecretKey,
            |c| {
                found = true;
                key_names_a_secret(&c[1]) && !c[3].is_empty() && &c[3] != REDACTED.as_bytes()
            },
            |c| {
                [
                    b"\"",
                    &c[1],
                    b"\"",
                    &c[2],
                    b"\"",
                    REDACTED.as_bytes(),
                    b"\"",
                ]
                .concat()
            },
        );
        if found {
            return json;
        }
        let Some(c) = YAML_PAIR.captures(text) else {
            return text.to_vec();
        };
        let value = &c[6];
        let value_text = String::from_utf8_lossy(value);
        let value_text = value_text.split(" #").next().unwrap_or_default().trim();
        if !key_names_a_secret(&c[3])
            || matches!(
                value_text,
                "" | "\"\"" | "''" | "~" | "null" | "true" | "false"
            )
            || value_text == REDACTED
            || value_text.starts_with('{')
            || value_text.starts_with('&')
        {
            return text.to_vec();
        }
        self.count(Kind::SecretKey);
        if value_text.starts_with('|') || value_text.starts_with('>') {
            self.in_block = Some(leading_spaces(text));
        }
        let quote = match value.first() {
            Some(b'"') => &b"\""[..],
            Some(b'\'') => &b"'"[..],
            _ => &b""[..],
        };
        [
            &c[1],
            &c[2],
            &c[3],
            &c[4],
            &c[5],
            quote,
            REDACTED.as_bytes(),
            quote,
        ]
        .concat()
    }

    fn flags(&mut self, text: &[u8]) -> Vec<u8> {
        self.replace_if(
            &FLAG,
            text,
            Kind::SecretFlag,
            |c| {
                let name = String::from_utf8_lossy(&c[2]);
                names_a_secret(name.trim_start_matches('-'))
                    && !c[4].starts_with(b"-")
                    && !matches!(&c[4], b"true" | b"false")
                    && !c[4].ends_with(REDACTED.as_bytes())
            },
            |c| [&c[1], &c[2], &c[3], REDACTED.as_bytes()].concat(),
        )
    }

    fn replace(
        &mut self,
        re: &Regex,
        text: &[u8],
        kind: Kind,
        with: impl Fn(&Captures<'_>) -> Vec<u8>,
    ) -> Vec<u8> {
        self.replace_if(re, text, kind, |_| true, with)
    }

    /// `re`'s matches in `text` for which `take` holds, replaced by `with`
    /// and counted as `kind`.
    fn replace_if(
        &mut self,
        re: &Regex,
        text: &[u8],
        kind: Kind,
        mut take: impl FnMut(&Captures<'_>) -> bool,
        with: impl Fn(&Captures<'_>) -> Vec<u8>,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        let mut last = 0;
        let mut taken = 0;
        for c in re.captures_iter(text) {
            let Some(whole) = c.get(0) else { continue };
            if !take(&c) {
                continue;
            }
            out.extend_from_slice(&text[last..whole.start()]);
            out.extend_from_slice(&with(&c));
            last = whole.end();
            taken += 1;
        }
        if taken == 0 {
            return text.to_vec();
        }
        out.extend_from_slice(&text[last..]);
        *self.counts.entry(kind).or_default() += taken;
        out
    }
}

fn key_names_a_secret(key: &[u8]) -> bool {
    names_a_secret(&String::from_utf8_lossy(key))
}

fn leading_spaces(text: &[u8]) -> usize {
    text.iter().take_while(|&&b| b == b' ').count()
}

/// `text` redacted whole, with what was taken out.
pub fn redact(text: &[u8]) -> (Vec<u8>, Counts) {
    let mut redactor = Redactor::default();
    let mut out = Vec::with_capacity(text.len());
    redactor.push(text, &mut out);
    redactor.finish(&mut out);
    (out, redactor.counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> (String, Vec<(Kind, u64)>) {
        let (out, counts) = redact(text.as_bytes());
        (
            String::from_utf8(out).unwrap(),
            counts.into_iter().collect(),
        )
    }

    #[test]
    fn keys_that_name_secrets_lose_their_values_and_where_they_are_kept_stays() {
        let kubeconfig = "users:\n- name: kubelet\n  user:\n    token: 0123456789abcdef\n    client-key-data: LS0tLS1CRUdJTg==\n    client-certificate-data: LS0tQ0VSVA==\n";
        let (out, counts) = redacted(kubeconfig);
        assert_eq!(
            out,
            "users:\n- name: kubelet\n  user:\n    token: [REDACTED]\n    client-key-data: [REDACTED]\n    client-certificate-data: LS0tQ0VSVA==\n"
        );
        assert_eq!(counts, [(Kind::SecretKey, 2)]);
        let config = "tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key\nstaticPodPath: /etc/kubernetes/manifests\ntaints:\n- key: node-role.kubernetes.io/control-plane\n  effect: NoSchedule\nsecretName: tls\npassword: \"\"\n";
        assert_eq!(redacted(config), (config.to_string(), vec![]));
        let (out, _) = redacted("  - password: 'hunter2'   # the old one\n  apiKey: \"sk-1\"\n");
        assert_eq!(
            out,
            "  - password: '[REDACTED]'\n  apiKey: \"[REDACTED]\"\n"
        );
    }

    #[test]
    fn json_pairs_are_redacted_anywhere_in_a_line() {
        let (out, counts) = redacted(
            r#"{"kind":"Config","token":"abc.def","nested":{"clientSecret":"s3cr\"et","keyFile":"/k"}}"#,
        );
        assert_eq!(
            out,
            r#"{"kind":"Config","token":"[REDACTED]","nested":{"clientSecret":"[REDACTED]","keyFile":"/k"}}"#
        );
        assert_eq!(counts, [(Kind::SecretKey, 2)]);
    }

    #[test]
    fn a_secret_block_scalar_is_dropped_up_to_the_next_key() {
        let (out, counts) =
            redacted("data:\n  token: |\n    line one\n    line two\n\n  other: kept\n");
        assert_eq!(out, "data:\n  token: [REDACTED]\n  other: kept\n");
        assert_eq!(counts, [(Kind::SecretKey, 1)]);
    }

    #[test]
    fn private_key_blocks_go_whole_and_certificates_stay() {
        let text = "cert: |\n  -----BEGIN CERTIFICATE-----\n  MIIBcert\n  -----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\nMIIEkey1\nMIIEkey2\n-----END RSA PRIVATE KEY-----\nafter\n";
        let (out, counts) = redacted(text);
        assert_eq!(
            out,
            "cert: |\n  -----BEGIN CERTIFICATE-----\n  MIIBcert\n  -----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\nafter\n"
        );
        assert_eq!(counts, [(Kind::PrivateKey, 1)]);
        let (out, counts) =
            redacted(r#"{"tls":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}"#);
        assert_eq!(
            out,
            r#"{"tls":"-----BEGIN PRIVATE KEY-----[REDACTED]-----END PRIVATE KEY-----\n"}"#
        );
        assert_eq!(counts, [(Kind::PrivateKey, 1)]);
    }

    #[test]
    fn bearer_tokens_jwts_and_secret_flags_are_redacted_in_logs() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl";
        let log = format!(
            "I1204 request: Authorization: Bearer abcdefgh12345678\nI1204 got {jwt} back\nargs: --token=t0ps3cret --token-file=/var/run/t --password hunter2 --v=2 --auth-token=false\n"
        );
        let (out, counts) = redacted(&log);
        assert_eq!(
            out,
            "I1204 request: Authorization: Bearer [REDACTED]\nI1204 got [REDACTED] back\nargs: --token=[REDACTED] --token-file=/var/run/t --password [REDACTED] --v=2 --auth-token=false\n"
        );
        assert_eq!(
            counts,
            [
                (Kind::SecretFlag, 2),
                (Kind::BearerToken, 1),
                (Kind::Jwt, 1)
            ]
        );
    }

    #[test]
    fn a_stream_cut_anywhere_redacts_as_a_whole() {
        let text = "a: 1\ntoken: abcdef\n-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\nlast password: no\npassword: x";
        let (whole, counts) = redact(text.as_bytes());
        for size in 1..text.len() {
            let mut redactor = Redactor::default();
            let mut out = Vec::new();
            for chunk in text.as_bytes().chunks(size) {
                redactor.push(chunk, &mut out);
            }
            redactor.finish(&mut out);
            assert_eq!(out, whole, "chunks of {size}");
            assert_eq!(redactor.counts(), &counts);
        }
        assert!(!String::from_utf8_lossy(&whole).contains("abcdef"));
        assert!(String::from_utf8_lossy(&whole).ends_with("password: [REDACTED]"));
    }

    #[test]
    fn binary_and_plain_text_pass_unchanged() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert_eq!(redact(&binary), (binary.clone(), Counts::new()));
        let plain = "Filesystem Size Used\n/dev/sda1 100G 3G\nkey: value\n";
        assert_eq!(redact(plain.as_bytes()).0, plain.as_bytes());
    }

    #[test]
    fn secret_names_are_told_from_where_secrets_are() {
        for secret in [
            "token",
            "bootstrapToken",
            "client-key-data",
            "password",
            "db_password",
            "clientSecret",
            "privateKey",
            "apiKey",
            "signingKey",
            "credentials",
            "secret",
        ] {
            assert!(names_a_secret(secret), "{secret}");
        }
        for kept in [
            "key",
            "tokenFile",
            "tlsPrivateKeyFile",
            "secretName",
            "secretRef",
            "client-certificate-data",
            "keyId",
            "name",
            "kubernetes.io/hostname",
            "serviceAccountKeyFile",
            "configMapAndSecretChangeDetectionStrategy",
            "authentication-token-webhook",
            "image-credential-provider-config",
        ] {
            assert!(!names_a_secret(kept), "{kept}");
        }
    }
}
