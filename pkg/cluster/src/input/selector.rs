//! Label selectors (`-l`), parsed as the API server parses them, so that a
//! selector it would refuse is refused before any request is sent.
//!
//! The grammar is that of k8s.io/apimachinery's `labels.Parse`:
//! requirements separated by commas, each one of
//! - `key`, `!key` (the label exists, or does not);
//! - `key=value`, `key==value`, `key!=value`;
//! - `key in (v1,v2)`, `key notin (v1,v2)`;
//! - `key>N`, `key<N`, with an integer N.
//!
//! Keys are qualified names and values label values
//! ([`crate::input::validation`]). `in` and `notin` are words only where an
//! operator is expected; elsewhere they are a key or a value like any other.

use crate::input::validation::{check_label_value, check_qualified_name};

/// How a requirement compares a label with its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Exists,
    DoesNotExist,
    /// `=` and `==`.
    Equals,
    NotEquals,
    In,
    NotIn,
    GreaterThan,
    LessThan,
}

/// One comma-separated part of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    /// Sorted and without repeats, as the server keeps them.
    pub values: Vec<String>,
}

/// A selector the API server would refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector {selector:?}: {reason}")]
pub struct InvalidSelector {
    pub selector: String,
    pub reason: String,
}

/// Parses a label selector; the empty selector selects everything.
pub fn parse_label_selector(selector: &str) -> Result<Vec<Requirement>, InvalidSelector> {
    Parser {
        tokens: lex(selector),
        position: 0,
    }
    .requirements()
    .map_err(|reason| InvalidSelector {
        selector: selector.to_string(),
        reason,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    /// `!`
    Not,
    /// `=`
    Equals,
    /// `==`
    DoubleEquals,
    /// `!=`
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
    End,
}

impl Token {
    /// How an error names what it found.
    fn describe(&self) -> String {
        match self {
            Token::Word(word) => format!("{word:?}"),
            Token::Not => "'!'".into(),
            Token::Equals => "'='".into(),
            Token::DoubleEquals => "'=='".into(),
            Token::NotEquals => "'!='".into(),
            Token::Greater => "'>'".into(),
            Token::Less => "'<'".into(),
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::Comma => "','".into(),
            Token::End => "the end".into(),
        }
    }
}

fn is_symbol(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

/// The server's lexer: whitespace separates; a run of symbols is read as
/// the longest operator it starts with; anything else up to whitespace or
/// a symbol is a word.
fn lex(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            chars.next();
        } else if is_symbol(c) {
            chars.next();
            let token = match (c, chars.peek()) {
                ('=', Some('=')) => Some(Token::DoubleEquals),
                ('!', Some('=')) => Some(Token::NotEquals),
                _ => None,
            };
            tokens.push(match token {
                Some(token) => {
                    chars.next();
                    token
                }
                None => match c {
                    '=' => Token::Equals,
                    '!' => Token::Not,
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    '>' => Token::Greater,
                    _ => Token::Less,
                },
            });
        } else {
            let mut word = String::new();
            while let Some(c) =
                chars.next_if(|c| !is_symbol(*c) && !matches!(c, ' ' | '\t' | '\r' | '\n'))
            {
                word.push(c);
            }
            tokens.push(Token::Word(word));
        }
    }
    tokens.push(Token::End);
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.position.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        self.position += 1;
        token
    }

    fn requirements(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            match self.peek() {
                Token::End => return Ok(requirements),
                Token::Word(_) | Token::Not => {}
                other => {
                    return Err(format!(
                        "found {}, expected a label key or '!'",
                        other.describe()
                    ));
                }
            }
            requirements.push(self.requirement()?);
            match self.next() {
                Token::End => return Ok(requirements),
                Token::Comma => {
                    if !matches!(self.peek(), Token::Word(_) | Token::Not) {
                        return Err(format!(
                            "found {} after ',', expected a label key or '!'",
                            self.peek().describe()
                        ));
                    }
                }
                other => {
                    return Err(format!(
                        "found {}, expected ',' or the end",
                        other.describe()
                    ));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let negated = *self.peek() == Token::Not;
        if negated {
            self.next();
        }
        let key = match self.next() {
            Token::Word(key) => key,
            other => {
                return Err(format!("found {}, expected a label key", other.describe()));
            }
        };
        check_qualified_name(&key).map_err(|rule| format!("key {key:?}: {rule}"))?;
        if negated {
            return Ok(Requirement {
                key,
                operator: Operator::DoesNotExist,
                values: Vec::new(),
            });
        }
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Ok(Requirement {
                key,
                operator: Operator::Exists,
                values: Vec::new(),
            });
        }
        let operator = match self.next() {
            Token::Equals | Token::DoubleEquals => Operator::Equals,
            Token::NotEquals => Operator::NotEquals,
            Token::Greater => Operator::GreaterThan,
            Token::Less => Operator::LessThan,
            Token::Word(word) if word == "in" => Operator::In,
            Token::Word(word) if word == "notin" => Operator::NotIn,
            other => {
                return Err(format!(
                    "found {} after key {key:?}, expected an operator: =, ==, !=, in, notin, >, <",
                    other.describe()
                ));
            }
        };
        let mut values = match operator {
            Operator::In | Operator::NotIn => self.value_set()?,
            _ => vec![self.exact_value()?],
        };
        values.sort();
        values.dedup();
        if matches!(operator, Operator::GreaterThan | Operator::LessThan) {
            for value in &values {
                if value.parse::<i64>().is_err() {
                    return Err(format!(
                        "{key:?} compared with > or < takes an integer, not {value:?}"
                    ));
                }
            }
        }
        for value in &values {
            check_label_value(value).map_err(|rule| format!("value {value:?}: {rule}"))?;
        }
        Ok(Requirement {
            key,
            operator,
            values,
        })
    }

    /// After `=`, `!=`, `>` or `<`: one value, which may be empty (`key=`).
    fn exact_value(&mut self) -> Result<String, String> {
        match self.peek() {
            Token::End | Token::Comma => Ok(String::new()),
            Token::Word(_) => match self.next() {
                Token::Word(value) => Ok(value),
                _ => unreachable!("peeked a word"),
            },
            other => Err(format!("found {}, expected a value", other.describe())),
        }
    }

    /// After `in` or `notin`: `(v1,v2)`. Empty places count as the empty
    /// value, as on the server: `()` and `(a,)` both hold "".
    fn value_set(&mut self) -> Result<Vec<String>, String> {
        match self.next() {
            Token::Open => {}
            other => return Err(format!("found {}, expected '('", other.describe())),
        }
        let mut values = Vec::new();
        let mut expecting_value = true;
        loop {
            match self.next() {
                Token::Word(value) if expecting_value => {
                    values.push(value);
                    expecting_value = false;
                }
                Token::Comma => {
                    if expecting_value {
                        values.push(String::new());
                    }
                    expecting_value = true;
                }
                Token::Close => {
                    if expecting_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                other if expecting_value => {
                    return Err(format!(
                        "found {}, expected a value, ',' or ')'",
                        other.describe()
                    ));
                }
                other => {
                    return Err(format!("found {}, expected ',' or ')'", other.describe()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn selectors_the_server_accepts_parse_to_its_requirements() {
        use Operator::*;
        let cases: Vec<(&str, Vec<Requirement>)> = vec![
            ("", vec![]),
            ("   ", vec![]),
            ("x", vec![requirement("x", Exists, &[])]),
            ("!x", vec![requirement("x", DoesNotExist, &[])]),
            ("! x", vec![requirement("x", DoesNotExist, &[])]),
            ("x=a", vec![requirement("x", Equals, &["a"])]),
            ("x==a", vec![requirement("x", Equals, &["a"])]),
            ("x = a", vec![requirement("x", Equals, &["a"])]),
            ("x!=a", vec![requirement("x", NotEquals, &["a"])]),
            ("x=", vec![requirement("x", Equals, &[""])]),
            (
                "x=,y",
                vec![
                    requirement("x", Equals, &[""]),
                    requirement("y", Exists, &[]),
                ],
            ),
            ("x>1", vec![requirement("x", GreaterThan, &["1"])]),
            ("x<10", vec![requirement("x", LessThan, &["10"])]),
            ("x in (a,b)", vec![requirement("x", In, &["a", "b"])]),
            ("x in (b,a,b)", vec![requirement("x", In, &["a", "b"])]),
            ("x notin (a)", vec![requirement("x", NotIn, &["a"])]),
            ("x in ()", vec![requirement("x", In, &[""])]),
            ("x in (a,)", vec![requirement("x", In, &["", "a"])]),
            ("x in (,a)", vec![requirement("x", In, &["", "a"])]),
            ("x in (a,,b)", vec![requirement("x", In, &["", "a", "b"])]),
            // in and notin are words where no operator is expected.
            ("in", vec![requirement("in", Exists, &[])]),
            ("x=in", vec![requirement("x", Equals, &["in"])]),
            (
                "x in (in,notin)",
                vec![requirement("x", In, &["in", "notin"])],
            ),
            (
                "node-role.kubernetes.io/worker",
                vec![requirement("node-role.kubernetes.io/worker", Exists, &[])],
            ),
            (
                "topology.kubernetes.io/zone=eu-west-1a,!node-role.kubernetes.io/control-plane",
                vec![
                    requirement("topology.kubernetes.io/zone", Equals, &["eu-west-1a"]),
                    requirement("node-role.kubernetes.io/control-plane", DoesNotExist, &[]),
                ],
            ),
            (
                "A_b.c=X.y_Z",
                vec![requirement("A_b.c", Equals, &["X.y_Z"])],
            ),
            ("x\t=\na", vec![requirement("x", Equals, &["a"])]),
        ];
        for (selector, expected) in cases {
            assert_eq!(parse_label_selector(selector), Ok(expected), "{selector:?}");
        }
    }

    #[test]
    fn selectors_the_server_refuses_are_refused_with_the_reason() {
        let long = "a".repeat(64);
        let long_value = format!("x={long}");
        let long_key = format!("{long}=1");
        let cases: Vec<(&str, &str)> = vec![
            (
                "bad selector!!",
                "found \"selector\" after key \"bad\", expected an operator",
            ),
            ("a in (", "found the end, expected a value, ',' or ')'"),
            ("a in (b", "found the end, expected ',' or ')'"),
            ("a in b", "found \"b\", expected '('"),
            ("a in (b c)", "found \"c\", expected ',' or ')'"),
            ("a in (=)", "found '=', expected a value"),
            ("a=b=c", "found '=', expected ',' or the end"),
            ("a=(", "found '(', expected a value"),
            ("a b", "found \"b\" after key \"a\""),
            ("=a", "found '=', expected a label key or '!'"),
            (",", "found ',', expected a label key or '!'"),
            ("a,", "found the end after ','"),
            ("a,,b", "found ',' after ','"),
            ("!", "found the end, expected a label key"),
            ("!a=b", "found '=', expected ',' or the end"),
            ("a>b", "takes an integer, not \"b\""),
            ("a<", "takes an integer, not \"\""),
            ("a>-1", "value \"-1\""),
            ("a>1.5", "takes an integer"),
            ("bad key=1", "found \"key\" after key \"bad\""),
            ("-a=1", "key \"-a\""),
            ("a/b/c", "key \"a/b/c\""),
            ("/a", "key \"/a\""),
            ("a/", "key \"a/\""),
            ("Example.com/a", "key \"Example.com/a\""),
            (&long_key, "key \"aaaa"),
            (&long_value, "value \"aaaa"),
            ("a=b c", "found \"c\", expected ',' or the end"),
            ("a=-b", "value \"-b\""),
            ("a=b_", "value \"b_\""),
            ("a=ü", "value \"ü\""),
            ("a in (x,-y)", "value \"-y\""),
        ];
        for (selector, reason) in cases {
            let err = parse_label_selector(selector).expect_err(selector);
            assert_eq!(err.selector, selector);
            assert!(err.reason.contains(reason), "{selector:?}: {}", err.reason);
            assert_eq!(err.to_string().lines().count(), 1, "{err}");
        }
    }
}
