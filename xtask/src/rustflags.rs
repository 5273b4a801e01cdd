//! Adding rustflags for one build step after the user's own, never in their
//! place.

use std::process::Command;

/// Gives `command` the user's rustflags followed by `flags`.
///
/// Cargo takes `CARGO_ENCODED_RUSTFLAGS` (flags separated by 0x1f) before
/// `RUSTFLAGS`, so `flags` go into the one the user set. With neither set
/// they go into `RUSTFLAGS`, which for this one step replaces any
/// `rustflags` of cargo's config files (cargo reads only one source).
pub fn append_rustflags(command: &mut Command, flags: &[&str]) {
    let encoded = std::env::var("CARGO_ENCODED_RUSTFLAGS").ok();
    let plain = std::env::var("RUSTFLAGS").ok();
    let (variable, value) = with_flags(encoded, plain, flags);
    command.env(variable, value);
}

/// The variable to set and its value: the user's flags, then `flags`.
fn with_flags(encoded: Option<String>, plain: Option<String>, flags: &[&str]) -> (&'static str, String) {
    match (encoded, plain) {
        (Some(encoded), _) => {
            let user = (!encoded.is_empty()).then_some(encoded.as_str());
            let all: Vec<&str> = user.into_iter().chain(flags.iter().copied()).collect();
            ("CARGO_ENCODED_RUSTFLAGS", all.join("\x1f"))
        }
        (None, plain) => {
            let user = plain.as_deref().map(str::trim).filter(|user| !user.is_empty());
            let all: Vec<&str> = user.into_iter().chain(flags.iter().copied()).collect();
            ("RUSTFLAGS", all.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_flags;

    #[test]
    fn the_users_rustflags_come_first() {
        let set = with_flags(None, Some("-C target-cpu=native".into()), &["--cfg", "loom"]);
        assert_eq!(set, ("RUSTFLAGS", "-C target-cpu=native --cfg loom".to_string()));
    }

    #[test]
    fn encoded_rustflags_win_over_rustflags_and_keep_their_separator() {
        let set = with_flags(
            Some("-Cdebuginfo=1\x1f-Dwarnings".into()),
            Some("ignored by cargo".into()),
            &["--cfg", "loom"],
        );
        assert_eq!(
            set,
            (
                "CARGO_ENCODED_RUSTFLAGS",
                "-Cdebuginfo=1\x1f-Dwarnings\x1f--cfg\x1floom".to_string()
            )
        );
    }

    #[test]
    fn without_user_flags_only_ours_are_set() {
        let set = with_flags(None, None, &["--cfg", "loom"]);
        assert_eq!(set, ("RUSTFLAGS", "--cfg loom".to_string()));
        let set = with_flags(Some(String::new()), None, &["--cfg", "loom"]);
        assert_eq!(set, ("CARGO_ENCODED_RUSTFLAGS", "--cfg\x1floom".to_string()));
    }
}
