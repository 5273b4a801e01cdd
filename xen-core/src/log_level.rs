//! Log levels: how much the hypervisor says on its console.
//!
//! One threshold, set by `loglvl=` on the command line, decides which messages are
//! printed. Xen's own `loglvl=` takes `all`, `warning`... and a guest threshold after a
//! slash; we keep five plain names of our own instead of imitating that syntax.

/// How severe a message is, and the threshold that filters messages.
///
/// Variants are ordered from most to least severe, so a message at `level` is
/// printed when `level <= threshold`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Something failed; the hypervisor or a domain cannot go on as asked.
    Error,
    /// Something is wrong but was worked around.
    Warn,
    /// Milestones worth seeing on every boot (the default threshold).
    #[default]
    Info,
    /// Detail for whoever is debugging the hypervisor.
    Debug,
    /// Detail too fine for anyone but the author of the code printing it.
    Trace,
}

impl LogLevel {
    /// Every level, most severe first.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
    ];

    /// The level named `name` on the command line: `error`, `warn`, `info`, `debug` or
    /// `trace`, lower case only, like every other option name.
    pub fn parse(name: &str) -> Option<LogLevel> {
        LogLevel::ALL.into_iter().find(|level| level.name() == name)
    }

    /// The name [`LogLevel::parse`] accepts for this level.
    pub const fn name(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    /// A five-character upper-case label, padded so that log columns line up.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "ERROR",
            LogLevel::Warn => "WARN ",
            LogLevel::Info => "INFO ",
            LogLevel::Debug => "DEBUG",
            LogLevel::Trace => "TRACE",
        }
    }

    /// Whether a message at this level passes `threshold`.
    pub fn passes(self, threshold: LogLevel) -> bool {
        self <= threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_level() {
        for level in LogLevel::ALL {
            assert_eq!(LogLevel::parse(level.name()), Some(level));
        }
    }

    #[test]
    fn unknown_and_differently_cased_names_are_rejected() {
        for name in ["", "ERROR", "Info", "warning", "all", "info ", "3"] {
            assert_eq!(LogLevel::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn labels_are_five_characters_wide() {
        for level in LogLevel::ALL {
            assert_eq!(level.as_str().len(), 5);
            assert_eq!(level.as_str().trim_end(), level.name().to_ascii_uppercase());
        }
    }

    #[test]
    fn more_severe_levels_pass_a_lower_threshold() {
        assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Debug < LogLevel::Trace);
        assert!(LogLevel::Error.passes(LogLevel::Info));
        assert!(LogLevel::Info.passes(LogLevel::Info));
        assert!(!LogLevel::Debug.passes(LogLevel::Info));
        assert_eq!(LogLevel::default(), LogLevel::Info);
    }
}
