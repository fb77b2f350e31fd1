//! Node sets as ClusterShell writes them: `node-[0001-0040,0042]` stands for
//! forty-one node names. A fan-out over a thousand nodes reports its results
//! per set of nodes, and a set folded this way fits on one line; users may
//! type the same notation to name the nodes to run on.
//!
//! Only the last run of digits in a name is folded. Kubernetes node names
//! usually number their nodes at the end (`kwok-0042`, `ip-10-0-1-7`), and
//! folding on one dimension keeps the text predictable: what `fold` writes,
//! `expand` reads back to the same names.
//!
//! Pure: no cluster, no I/O.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The most names one range may stand for, so that a slip of the keyboard
/// (`node-[1-10000000]`) is refused instead of fanning out to millions of
/// nodes that do not exist.
const MAX_RANGE_NAMES: u64 = 100_000;

/// Why a node-set text could not be expanded. Each message names the text
/// at fault, escaped so that the error stays on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeSetError {
    /// The whole text is named: an empty item has nothing to show.
    #[error("node set {text:?}: empty item (a comma at the start or end, or two in a row)")]
    EmptyItem { text: String },
    #[error("node set {item:?}: '[' is never closed")]
    UnclosedBracket { item: String },
    #[error("node set {item:?}: ']' has no '[' before it")]
    UnopenedBracket { item: String },
    #[error("node set {item:?}: brackets cannot nest")]
    NestedBrackets { item: String },
    #[error("node set {item:?}: a second [...] group; a name may have only one")]
    SecondGroup { item: String },
    #[error("node set {item:?}: empty range (nothing between the brackets or commas)")]
    EmptyRange { item: String },
    #[error("node set {item:?}: {range:?} is not a number or a range of numbers like 1-3")]
    NotARange { item: String, range: String },
    #[error(
        "node set {item:?}: number {number} is too large (at most {})",
        u64::MAX
    )]
    NumberTooLarge { item: String, number: String },
    #[error("node set {item:?}: range {range} runs backwards")]
    BackwardsRange { item: String, range: String },
    #[error("node set {item:?}: range {range} stands for more than {MAX_RANGE_NAMES} names")]
    RangeTooLarge { item: String, range: String },
}

/// Folds names into node-set text: "node-[0001-0003,0007],real-0001".
///
/// Names are grouped by what surrounds their last number and by how that
/// number is written, so that expanding the text gives back exactly these
/// names: `node-09` and `node-9` are different nodes and stay apart. The
/// groups come in natural order, so the text reads like a sorted list.
/// Duplicates are written once. Empty names are skipped: no node has one,
/// and it could not be told apart from the separator.
///
/// Node names never contain `[`, `]` or `,`, so no name is mistaken for
/// the notation.
pub fn fold<S: AsRef<str>>(names: &[S]) -> String {
    let mut numbered: BTreeMap<(&str, &str, usize), BTreeSet<u64>> = BTreeMap::new();
    let mut unnumbered: BTreeSet<&str> = BTreeSet::new();
    let splits: Vec<NumberedName<'_>> = names
        .iter()
        .map(AsRef::as_ref)
        .filter(|name| !name.is_empty())
        .filter_map(|name| {
            let split = split_last_number(name);
            if split.is_none() {
                unnumbered.insert(name);
            }
            split
        })
        .collect();
    // A number that fills a padded width exactly ("1000" beside "0999")
    // belongs with the padded ones, as it is written the same either way.
    let padded_widths: BTreeSet<(&str, &str, usize)> = splits
        .iter()
        .filter(|split| split.width > 1)
        .map(|split| (split.prefix, split.suffix, split.width))
        .collect();
    for split in splits {
        let filled = (split.prefix, split.suffix, split.digits);
        let width = if split.width == 1 && padded_widths.contains(&filled) {
            split.digits
        } else {
            split.width
        };
        numbered
            .entry((split.prefix, split.suffix, width))
            .or_default()
            .insert(split.value);
    }

    // (the name a part is ordered by, the part's text)
    let mut parts: Vec<(String, String)> = unnumbered
        .into_iter()
        .map(|name| (name.to_string(), name.to_string()))
        .collect();
    for ((prefix, suffix, width), numbers) in numbered {
        let Some(&lowest) = numbers.first() else {
            continue;
        };
        let first_name = format!("{prefix}{}{suffix}", padded(lowest, width));
        let text = if numbers.len() == 1 {
            first_name.clone()
        } else {
            format!("{prefix}[{}]{suffix}", ranges_text(&numbers, width))
        };
        parts.push((first_name, text));
    }
    parts.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    parts
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(",")
}

/// Expands a node-set text ("node-[0001-0003,0007],other", "n[1-3]x") into
/// names, in the order written, each name once (where it first appears).
///
/// A range keeps the width of its start, so `[08-11]` gives 08, 09, 10, 11
/// (as `fold` writes zero-padded numbers). The empty text is the empty set,
/// as `fold` writes it. Names without brackets are taken as they are: which
/// names exist is for the cluster to say.
pub fn expand(text: &str) -> Result<Vec<String>, NodeSetError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for item in top_level_items(text) {
        if item.is_empty() {
            return Err(NodeSetError::EmptyItem {
                text: text.to_string(),
            });
        }
        for name in expand_item(item)? {
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// Orders names as a person would: runs of digits compared by value
/// ("node-9" < "node-10"), the rest by text. Names that differ only in
/// leading zeros ("node-09", "node-9") are then ordered by text, so that
/// only equal names compare equal and sorting is deterministic.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    natural_order(a.as_bytes(), b.as_bytes()).then_with(|| a.cmp(b))
}

/// Compares byte by byte, which for UTF-8 is code point order, except that
/// digit runs met at the same place are compared by value.
fn natural_order(mut a: &[u8], mut b: &[u8]) -> Ordering {
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (a_digits, a_rest) = split_leading_digits(a);
                let (b_digits, b_rest) = split_leading_digits(b);
                let by_value = digit_value_cmp(a_digits, b_digits);
                if by_value != Ordering::Equal {
                    return by_value;
                }
                (a, b) = (a_rest, b_rest);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn split_leading_digits(bytes: &[u8]) -> (&[u8], &[u8]) {
    let digits = bytes
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(bytes.len());
    bytes.split_at(digits)
}

/// Compares two digit runs by value without parsing them, so that numbers
/// too long for any integer type still order correctly.
fn digit_value_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let significant = |digits: &[u8]| -> usize {
        digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len())
    };
    let (a, b) = (&a[significant(a)..], &b[significant(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A name cut at its last run of digits: `ip-10-0-1-7.ec2.internal` is
/// `ip-10-0-1-7.ec`, 2, `.internal`.
struct NumberedName<'a> {
    prefix: &'a str,
    value: u64,
    /// The width the number is written with at least: its length when
    /// zero-padded (`0007` is 4), else 1, as an unpadded number takes
    /// whatever width its value needs. Names fold together only when this
    /// matches, so padded and unpadded numbers never share a range.
    width: usize,
    suffix: &'a str,
    /// How many digits the number is written with.
    digits: usize,
}

/// None for a name without digits, and for one whose number is too large
/// for a u64: such a name stands alone, written as it is.
fn split_last_number(name: &str) -> Option<NumberedName<'_>> {
    let bytes = name.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |before| before + 1);
    let digits = &name[start..end];
    let value = digits.parse().ok()?;
    let width = if digits.len() > 1 && digits.starts_with('0') {
        digits.len()
    } else {
        1
    };
    Some(NumberedName {
        prefix: &name[..start],
        value,
        width,
        digits: digits.len(),
        suffix: &name[end..],
    })
}

fn padded(number: u64, width: usize) -> String {
    format!("{number:0width$}")
}

/// "1-2,4,6-8" for {1, 2, 4, 6, 7, 8}.
fn ranges_text(numbers: &BTreeSet<u64>, width: usize) -> String {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &number in numbers {
        match runs.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(number) => *last = number,
            _ => runs.push((number, number)),
        }
    }
    runs.into_iter()
        .map(|(first, last)| {
            if first == last {
                padded(first, width)
            } else {
                format!("{}-{}", padded(first, width), padded(last, width))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Splits at the commas outside brackets. Stray or unclosed brackets are
/// left in their item for `expand_item` to report, with the item named.
fn top_level_items(text: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    text.split(move |c| {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        c == ',' && depth == 0
    })
}

/// Expands one item: a plain name, or `prefix[ranges]suffix`.
fn expand_item(item: &str) -> Result<Vec<String>, NodeSetError> {
    let Some(open) = item.find(['[', ']']) else {
        return Ok(vec![item.to_string()]);
    };
    if item[open..].starts_with(']') {
        return Err(NodeSetError::UnopenedBracket {
            item: item.to_string(),
        });
    }
    let after_open = &item[open + 1..];
    let close = match after_open.find(['[', ']']) {
        None => {
            return Err(NodeSetError::UnclosedBracket {
                item: item.to_string(),
            });
        }
        Some(at) if after_open[at..].starts_with('[') => {
            return Err(NodeSetError::NestedBrackets {
                item: item.to_string(),
            });
        }
        Some(at) => at,
    };
    let (prefix, ranges, suffix) = (
        &item[..open],
        &after_open[..close],
        &after_open[close + 1..],
    );
    if suffix.contains('[') {
        return Err(NodeSetError::SecondGroup {
            item: item.to_string(),
        });
    }
    if suffix.contains(']') {
        return Err(NodeSetError::UnopenedBracket {
            item: item.to_string(),
        });
    }

    let mut names = Vec::new();
    for range in ranges.split(',') {
        let (start, end, width) = parse_range(item, range)?;
        names.extend(
            (start..=end).map(|number| format!("{prefix}{}{suffix}", padded(number, width))),
        );
    }
    Ok(names)
}

/// A range "3-7" or a single number "7": its first and last numbers, and
/// the width of its start, which every number in it is padded to.
fn parse_range(item: &str, range: &str) -> Result<(u64, u64, usize), NodeSetError> {
    if range.is_empty() {
        return Err(NodeSetError::EmptyRange {
            item: item.to_string(),
        });
    }
    let (start_text, end_text) = range.split_once('-').unwrap_or((range, range));
    let start = parse_number(item, range, start_text)?;
    let end = parse_number(item, range, end_text)?;
    if start > end {
        return Err(NodeSetError::BackwardsRange {
            item: item.to_string(),
            range: range.to_string(),
        });
    }
    if end - start >= MAX_RANGE_NAMES {
        return Err(NodeSetError::RangeTooLarge {
            item: item.to_string(),
            range: range.to_string(),
        });
    }
    Ok((start, end, start_text.len()))
}

fn parse_number(item: &str, range: &str, number: &str) -> Result<u64, NodeSetError> {
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NodeSetError::NotARange {
            item: item.to_string(),
            range: range.to_string(),
        });
    }
    number.parse().map_err(|_| NodeSetError::NumberTooLarge {
        item: item.to_string(),
        number: number.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn fold_writes_node_sets() {
        for (input, folded) in [
            (
                &["node-0001", "node-0002", "node-0003", "node-0007"][..],
                "node-[0001-0003,0007]",
            ),
            (
                &["node-0007", "node-0003", "node-0001", "node-0002"][..],
                "node-[0001-0003,0007]",
            ),
            // Mixed names: groups and names without digits in natural order.
            (
                &["real-0001", "kwok-0002", "master", "kwok-0001"][..],
                "kwok-[0001-0002],master,real-0001",
            ),
            // Zero padding.
            (&["node-0009", "node-0010"][..], "node-[0009-0010]"),
            (
                &["node-0999", "node-1000", "node-1001"][..],
                "node-[0999-1001]",
            ),
            (&["node-1000", "node-1001"][..], "node-[1000-1001]"),
            (&["node-9", "node-10"][..], "node-[9-10]"),
            (&["node-09", "node-9"][..], "node-09,node-9"),
            (&["node-0", "node-1"][..], "node-[0-1]"),
            (&["node-0", "node-00"][..], "node-0,node-00"),
            (
                &["node-010", "node-9", "node-011", "node-10"][..],
                "node-[9-10],node-[010-011]",
            ),
            // One member: no brackets.
            (&["node-0042"][..], "node-0042"),
            (&["master"][..], "master"),
            (&["node-9", "node-11"][..], "node-[9,11]"),
            // Duplicates.
            (
                &["node-1", "node-2", "node-1", "master", "master"][..],
                "master,node-[1-2]",
            ),
            (&["node-1", "node-1"][..], "node-1"),
            // Digits in the middle: only the last run folds.
            (&["ip-10-0-1-7", "ip-10-0-1-8"][..], "ip-10-0-1-[7-8]"),
            (
                &["ip-10-0-1-7", "ip-10-0-2-7"][..],
                "ip-10-0-1-7,ip-10-0-2-7",
            ),
            // A suffix after the number.
            (&["rack1-n", "rack2-n"][..], "rack[1-2]-n"),
            (&["rack1-n", "rack2-m"][..], "rack1-n,rack2-m"),
            // Dots.
            (
                &[
                    "node1.example.com",
                    "node2.example.com",
                    "node3.example.com",
                ][..],
                "node[1-3].example.com",
            ),
            (&["10.0.0.1", "10.0.0.2"][..], "10.0.0.[1-2]"),
            (
                &["ip-10-0-1-7.ec2.internal", "ip-10-0-1-8.ec2.internal"][..],
                "ip-10-0-1-7.ec2.internal,ip-10-0-1-8.ec2.internal",
            ),
            // Runs: two in a row are a range, gaps split.
            (&["n1", "n2", "n4", "n6", "n7", "n8"][..], "n[1-2,4,6-8]"),
            // Groups in natural order.
            (
                &["node-a", "node-100", "node-10", "node-9"][..],
                "node-[9-10,100],node-a",
            ),
            (&["b-2", "a10", "b-1", "a9"][..], "a[9-10],b-[1-2]"),
            // Numbers too large to fold stand alone.
            (
                &["n99999999999999999999999", "n99999999999999999999998"][..],
                "n99999999999999999999998,n99999999999999999999999",
            ),
            (&[][..], ""),
            (&["", "n1"][..], "n1"),
        ] {
            assert_eq!(fold(input), folded, "{input:?}");
        }
    }

    #[test]
    fn fold_takes_owned_names() {
        let owned = names(&["kwok-0001", "kwok-0002"]);
        assert_eq!(fold(&owned), "kwok-[0001-0002]");
    }

    #[test]
    fn expand_reads_node_sets() {
        for (text, expanded) in [
            (
                "node-[0001-0003,0007]",
                &["node-0001", "node-0002", "node-0003", "node-0007"][..],
            ),
            (
                "kwok-[0001-0002],real-0001,master",
                &["kwok-0001", "kwok-0002", "real-0001", "master"][..],
            ),
            ("n[1-3]x", &["n1x", "n2x", "n3x"][..]),
            ("rack[1-2]-n", &["rack1-n", "rack2-n"][..]),
            ("n[08-11]", &["n08", "n09", "n10", "n11"][..]),
            ("n[0008-11]", &["n0008", "n0009", "n0010", "n0011"][..]),
            ("n[9-11]", &["n9", "n10", "n11"][..]),
            ("n[007]", &["n007"][..]),
            ("n[0-1]", &["n0", "n1"][..]),
            ("[1-2]", &["1", "2"][..]),
            ("[1-2].example.com", &["1.example.com", "2.example.com"][..]),
            // In the order written, each name once.
            ("n[3,1,2]", &["n3", "n1", "n2"][..]),
            ("n[1-3],n2,n[2-4]", &["n1", "n2", "n3", "n4"][..]),
            ("master,master", &["master"][..]),
            ("master", &["master"][..]),
            ("ip-10-0-1-7", &["ip-10-0-1-7"][..]),
            ("", &[][..]),
        ] {
            assert_eq!(expand(text), Ok(names(expanded)), "{text:?}");
        }
    }

    #[test]
    fn expand_allows_ranges_up_to_the_limit() {
        let expanded = expand("n[1-100000]").expect("a range at the limit expands");
        assert_eq!(expanded.len(), 100_000);
        assert_eq!(expanded.last().map(String::as_str), Some("n100000"));
    }

    #[test]
    fn expand_errors_name_the_bad_text() {
        for (text, message) in [
            ("n[3-1]", r#"node set "n[3-1]": range 3-1 runs backwards"#),
            (
                "a,n[0010-0009]",
                r#"node set "n[0010-0009]": range 0010-0009 runs backwards"#,
            ),
            (
                "a,,b",
                r#"node set "a,,b": empty item (a comma at the start or end, or two in a row)"#,
            ),
            (
                ",a",
                r#"node set ",a": empty item (a comma at the start or end, or two in a row)"#,
            ),
            (
                "a,",
                r#"node set "a,": empty item (a comma at the start or end, or two in a row)"#,
            ),
            ("n[1-3", r#"node set "n[1-3": '[' is never closed"#),
            ("n[1-3,m", r#"node set "n[1-3,m": '[' is never closed"#),
            ("n1-3]", r#"node set "n1-3]": ']' has no '[' before it"#),
            ("a],b", r#"node set "a]": ']' has no '[' before it"#),
            ("n[1]]", r#"node set "n[1]]": ']' has no '[' before it"#),
            ("n[[1-2]]", r#"node set "n[[1-2]]": brackets cannot nest"#),
            (
                "n[1-2]-[3-4]",
                r#"node set "n[1-2]-[3-4]": a second [...] group; a name may have only one"#,
            ),
            (
                "n[]",
                r#"node set "n[]": empty range (nothing between the brackets or commas)"#,
            ),
            (
                "n[1,,2]",
                r#"node set "n[1,,2]": empty range (nothing between the brackets or commas)"#,
            ),
            (
                "n[1,]",
                r#"node set "n[1,]": empty range (nothing between the brackets or commas)"#,
            ),
            (
                "n[a-3]",
                r#"node set "n[a-3]": "a-3" is not a number or a range of numbers like 1-3"#,
            ),
            (
                "n[1-]",
                r#"node set "n[1-]": "1-" is not a number or a range of numbers like 1-3"#,
            ),
            (
                "n[-3]",
                r#"node set "n[-3]": "-3" is not a number or a range of numbers like 1-3"#,
            ),
            (
                "n[1-2-3]",
                r#"node set "n[1-2-3]": "1-2-3" is not a number or a range of numbers like 1-3"#,
            ),
            (
                "n[ 1]",
                r#"node set "n[ 1]": " 1" is not a number or a range of numbers like 1-3"#,
            ),
            (
                "n[1-100001]",
                r#"node set "n[1-100001]": range 1-100001 stands for more than 100000 names"#,
            ),
            (
                "n[0-18446744073709551615]",
                r#"node set "n[0-18446744073709551615]": range 0-18446744073709551615 stands for more than 100000 names"#,
            ),
            (
                "n[18446744073709551616]",
                r#"node set "n[18446744073709551616]": number 18446744073709551616 is too large (at most 18446744073709551615)"#,
            ),
            // Escaped, so that the message stays on one line.
            (
                "n\n[3-1]",
                r#"node set "n\n[3-1]": range 3-1 runs backwards"#,
            ),
        ] {
            let error = expand(text).expect_err(text);
            assert_eq!(error.to_string(), message, "{text:?}");
        }
    }

    #[test]
    fn natural_cmp_orders_numbers_by_value() {
        use Ordering::{Equal, Greater, Less};
        for (a, b, order) in [
            ("node-9", "node-10", Less),
            ("node-10", "node-9", Greater),
            ("node-2", "node-2", Equal),
            ("node-09", "node-9", Less),
            ("node-9", "node-09", Greater),
            ("node-009", "node-10", Less),
            ("a", "b", Less),
            ("node", "node-1", Less),
            ("node-1a", "node-1b", Less),
            ("n1x10", "n1x9", Greater),
            ("rack2-n10", "rack10-n1", Less),
            ("node-9", "node-a", Less),
            (
                "node-99999999999999999999999",
                "node-100000000000000000000000",
                Less,
            ),
            ("", "a", Less),
        ] {
            assert_eq!(natural_cmp(a, b), order, "{a:?} against {b:?}");
        }
    }

    #[test]
    fn natural_cmp_sorts_as_a_person_would() {
        let mut sorted = names(&[
            "node-10", "node-9", "master", "node-100", "node-1", "node-09",
        ]);
        sorted.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            sorted,
            names(&[
                "master", "node-1", "node-09", "node-9", "node-10", "node-100"
            ])
        );
    }

    #[test]
    fn expand_gives_back_what_fold_folded() {
        let numbered: Vec<String> = (1..=40)
            .chain([42])
            .map(|number| format!("node-{number:04}"))
            .collect();
        let lists: Vec<Vec<String>> = vec![
            numbered,
            names(&["kwok-0001", "kwok-0002", "real-0001", "master"]),
            // Mixed padded and unpadded.
            names(&[
                "node-09",
                "node-9",
                "node-10",
                "node-0010",
                "node-010",
                "node-0",
                "node-00",
                "node-099",
                "node-100",
                "node-99",
            ]),
            // Without digits.
            names(&["master", "control-plane", "worker", "control-plane"]),
            // Digits in the middle.
            names(&[
                "ip-10-0-1-7",
                "ip-10-0-1-8",
                "ip-10-0-2-7",
                "ip-10-0-1-10.ec2.internal",
                "ip-10-0-1-11.ec2.internal",
            ]),
            names(&["rack1-n", "rack2-n", "rack3-m", "rack10-n"]),
            names(&[
                "node1.example.com",
                "node2.example.com",
                "10.0.0.1",
                "10.0.0.2",
            ]),
            names(&[
                "n99999999999999999999999",
                "n1",
                "n2",
                "n18446744073709551615",
            ]),
            names(&["single-0001"]),
            Vec::new(),
        ];
        for list in lists {
            let folded = fold(&list);
            let expanded = expand(&folded).expect("fold writes text that expands");
            assert_eq!(
                expanded.iter().collect::<BTreeSet<_>>(),
                list.iter().collect::<BTreeSet<_>>(),
                "{list:?} folded to {folded:?}"
            );
            assert_eq!(
                expanded.len(),
                expanded.iter().collect::<BTreeSet<_>>().len()
            );
            assert_eq!(fold(&expanded), folded, "{list:?}");
        }
    }
}
