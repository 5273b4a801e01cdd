//! The start_info page the domain builder leaves for the guest.

pub use xen_abi::start_info::StartInfo;

/// The guest command line from start_info, up to its NUL.
pub fn command_line(info: &StartInfo) -> &str {
    let length = info
        .cmd_line
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(info.cmd_line.len());
    core::str::from_utf8(&info.cmd_line[..length]).unwrap_or("")
}

/// The value of `key=value` among the blank-separated words of `command_line`
/// (the first one), as Linux reads its boot parameters.
pub fn parameter<'a>(command_line: &'a str, key: &str) -> Option<&'a str> {
    command_line
        .split_ascii_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

/// Whether the guest runs as the control domain (SIF_INITDOMAIN).
pub fn is_initial_domain(info: &StartInfo) -> bool {
    info.flags & xen_abi::start_info::SifFlags::INITDOMAIN.bits() != 0
}

#[cfg(test)]
mod tests {
    use super::parameter;

    #[test]
    fn parameters_are_found_by_whole_key() {
        let line = "role=ping rounds=1000  peer=2";
        assert_eq!(parameter(line, "role"), Some("ping"));
        assert_eq!(parameter(line, "peer"), Some("2"));
        assert_eq!(parameter(line, "round"), None, "a key is matched whole");
        assert_eq!(parameter("", "role"), None);
    }
}
