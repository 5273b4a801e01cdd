//! The hypervisor command line.
//!
//! Like Xen's, it is a list of tokens separated by white space, each either a bare
//! `flag` or a `key=value` setting; the value is everything after the first `=`.
//! When a key is given twice the last one wins, so a boot loader entry can append an
//! override to a default line. Unlike Xen, there is no quoting, `-` and `_` are not
//! interchangeable in names, and `no-flag` is just another flag.

use crate::log_level::LogLevel;

/// The hypervisor command line, borrowed from wherever the loader's copy lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandLine<'a> {
    text: &'a str,
}

/// One token of the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token's name: the whole token for a flag, the part before `=` otherwise.
    pub key: &'a str,
    /// The part after the first `=`, or `None` for a bare flag.
    pub value: Option<&'a str>,
}

impl<'a> Token<'a> {
    /// Splits one white-space-free token.
    fn parse(token: &'a str) -> Self {
        match token.split_once('=') {
            Some((key, value)) => Token {
                key,
                value: Some(value),
            },
            None => Token {
                key: token,
                value: None,
            },
        }
    }
}

impl<'a> CommandLine<'a> {
    /// The command line `text`; any text is accepted, unknown tokens are left to
    /// whoever asks for them.
    pub const fn new(text: &'a str) -> Self {
        CommandLine { text }
    }

    /// The whole line as given.
    pub const fn as_str(&self) -> &'a str {
        self.text
    }

    /// The tokens in order of appearance.
    pub fn tokens(&self) -> impl Iterator<Item = Token<'a>> + use<'a> {
        self.text.split_ascii_whitespace().map(Token::parse)
    }

    /// The value of the last `key=value` token for `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.tokens()
            .filter(|token| token.key == key)
            .filter_map(|token| token.value)
            .last()
    }

    /// Whether the bare token `key` appears; `key=value` does not count.
    pub fn has_flag(&self, key: &str) -> bool {
        self.tokens().any(|token| token.key == key && token.value.is_none())
    }

    /// The console threshold set by `loglvl=`, [`LogLevel::Info`] when absent, or the
    /// offending value when it names no level.
    pub fn log_level(&self) -> Result<LogLevel, &'a str> {
        match self.get("loglvl") {
            None => Ok(LogLevel::default()),
            Some(value) => LogLevel::parse(value).ok_or(value),
        }
    }

    /// The value of `crash=`: which exception a test run asks the hypervisor to take
    /// on purpose, to exercise its crash path.
    pub fn crash(&self) -> Option<&'a str> {
        self.get("crash")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn tokens_split_on_any_white_space_and_the_first_equals_sign() {
        let line = CommandLine::new("  a=1\tflag\nb=x=y  c= ");
        let tokens: Vec<_> = line.tokens().collect();
        assert_eq!(
            tokens,
            [
                Token {
                    key: "a",
                    value: Some("1")
                },
                Token {
                    key: "flag",
                    value: None
                },
                Token {
                    key: "b",
                    value: Some("x=y")
                },
                Token {
                    key: "c",
                    value: Some("")
                },
            ]
        );
    }

    #[test]
    fn the_last_setting_of_a_key_wins() {
        let line = CommandLine::new("loglvl=warn console=com1 loglvl=debug");
        assert_eq!(line.get("loglvl"), Some("debug"));
        assert_eq!(line.get("console"), Some("com1"));
        assert_eq!(line.get("missing"), None);
    }

    #[test]
    fn a_bare_flag_is_not_a_setting_and_a_setting_is_not_a_flag() {
        let line = CommandLine::new("noreboot crash=ud loglvl");
        assert!(line.has_flag("noreboot"));
        assert!(!line.has_flag("crash"));
        assert_eq!(line.get("noreboot"), None);
        assert_eq!(line.get("loglvl"), None);
        assert!(!line.has_flag("noreb"));
    }

    #[test]
    fn log_level_defaults_to_info_and_reports_unknown_values() {
        assert_eq!(CommandLine::new("").log_level(), Ok(LogLevel::Info));
        assert_eq!(CommandLine::new("loglvl=trace").log_level(), Ok(LogLevel::Trace));
        assert_eq!(CommandLine::new("loglvl=all").log_level(), Err("all"));
        assert_eq!(CommandLine::new("loglvl=").log_level(), Err(""));
    }

    #[test]
    fn crash_reads_its_value() {
        assert_eq!(CommandLine::new("a crash=page-fault b").crash(), Some("page-fault"));
        assert_eq!(CommandLine::new("crash").crash(), None);
    }

    #[test]
    fn empty_and_blank_lines_have_no_tokens() {
        assert_eq!(CommandLine::new("").tokens().count(), 0);
        assert_eq!(CommandLine::new(" \t\n ").tokens().count(), 0);
    }
}
