//! Xenstore paths: absolute (`/local/domain/1/name`) or relative to a
//! domain's home (`name`), and the special `@introduceDomain` and
//! `@releaseDomain` watch paths.
use alloc::format;
use alloc::string::String;
use xen_abi::xs_wire::{XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX, XsdError};

/// The watch path that fires when a domain is introduced.
pub const INTRODUCE_DOMAIN: &str = "@introduceDomain";
/// The watch path that fires when a domain is released or dies.
pub const RELEASE_DOMAIN: &str = "@releaseDomain";

/// Domain `domid`'s home, where its relative paths start.
pub fn domain_path(domid: u16) -> String {
    format!("/local/domain/{domid}")
}

/// Whether `byte` may appear in a path component.
fn allowed(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'/' | b'_' | b'@')
}

/// `raw` made absolute for domain `domid`, checked: allowed characters,
/// no empty components (`//`), no trailing `/` but on the root, within the
/// length limits. EINVAL otherwise.
pub fn canonical(raw: &[u8], domid: u16) -> Result<String, XsdError> {
    let raw = core::str::from_utf8(raw).map_err(|_| XsdError::EINVAL)?;
    if raw.is_empty() || !raw.bytes().all(allowed) {
        return Err(XsdError::EINVAL);
    }
    let absolute = if raw.starts_with('/') {
        String::from(raw)
    } else {
        if raw.len() > XENSTORE_REL_PATH_MAX {
            return Err(XsdError::EINVAL);
        }
        format!("{}/{raw}", domain_path(domid))
    };
    if absolute.len() > XENSTORE_ABS_PATH_MAX
        || absolute.contains("//")
        || (absolute.len() > 1 && absolute.ends_with('/'))
    {
        return Err(XsdError::EINVAL);
    }
    if absolute[1..].contains('@') {
        return Err(XsdError::EINVAL);
    }
    Ok(absolute)
}

/// A watch path: a path as [`canonical`], or one of the special ones.
pub fn watch_path(raw: &[u8], domid: u16) -> Result<String, XsdError> {
    match raw {
        b"@introduceDomain" => Ok(String::from(INTRODUCE_DOMAIN)),
        b"@releaseDomain" => Ok(String::from(RELEASE_DOMAIN)),
        _ if raw.first() == Some(&b'@') => Err(XsdError::EINVAL),
        _ => canonical(raw, domid),
    }
}

/// The parent of absolute `path`; `None` for the root.
pub fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(index) => Some(&path[..index]),
        None => None,
    }
}

/// The last component of absolute `path`.
pub fn leaf(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

/// `child` of `path`.
pub fn join(path: &str, child: &str) -> String {
    if path == "/" {
        format!("/{child}")
    } else {
        format!("{path}/{child}")
    }
}

/// Whether `path` is `ancestor` or below it.
pub fn is_within(path: &str, ancestor: &str) -> bool {
    ancestor == "/"
        || path == ancestor
        || (path.len() > ancestor.len() && path.starts_with(ancestor) && path.as_bytes()[ancestor.len()] == b'/')
}

/// `path` as domain `domid` wrote it: relative to its home if it was.
pub fn as_seen_by(path: &str, domid: u16, relative: bool) -> String {
    let home = domain_path(domid);
    if relative && path.starts_with(&home) && path.len() > home.len() {
        String::from(&path[home.len() + 1..])
    } else {
        String::from(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_start_at_the_domains_home() {
        assert_eq!(canonical(b"device/vbd", 3).unwrap(), "/local/domain/3/device/vbd");
        assert_eq!(canonical(b"/local", 3).unwrap(), "/local");
        assert_eq!(canonical(b"/", 3).unwrap(), "/");
    }

    #[test]
    fn malformed_paths_are_einval() {
        for bad in [&b""[..], b"a//b", b"/a/", b"a b", b"/a\xff", b"a/@b", b"/a@"] {
            assert_eq!(canonical(bad, 1), Err(XsdError::EINVAL), "{bad:?}");
        }
        assert_eq!(canonical(&[b'a'; XENSTORE_REL_PATH_MAX + 1], 1), Err(XsdError::EINVAL));
        let long = alloc::vec![b'a'; XENSTORE_ABS_PATH_MAX];
        let mut absolute = alloc::vec![b'/'];
        absolute.extend_from_slice(&long);
        assert_eq!(canonical(&absolute, 1), Err(XsdError::EINVAL));
        assert_eq!(watch_path(b"@introduceDomain", 1).unwrap(), INTRODUCE_DOMAIN);
        assert_eq!(watch_path(b"@other", 1), Err(XsdError::EINVAL));
    }

    #[test]
    fn parents_leaves_and_containment() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(leaf("/a/bc"), "bc");
        assert_eq!(join("/", "a"), "/a");
        assert!(is_within("/a/b", "/a"));
        assert!(!is_within("/ab", "/a"));
        assert!(is_within("/a", "/"));
        assert_eq!(as_seen_by("/local/domain/2/x", 2, true), "x");
        assert_eq!(as_seen_by("/local/domain/2/x", 2, false), "/local/domain/2/x");
    }
}
