//! A manifest line as blank-separated fields. A file of its own because both the
//! header check in `manifest.rs` and the domain line reader (`domain_spec`) split
//! lines this way, and `domain_spec` should not import from `manifest.rs`, which
//! calls it.

/// Field separators: blanks, plus a stray `\r` from an editor.
pub(super) fn is_blank(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Takes the next blank-separated field from `rest`.
pub(super) fn next_field<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let text = rest.trim_start_matches(is_blank);
    let (field, after) = text.split_once(is_blank).unwrap_or((text, ""));
    *rest = after;
    if field.is_empty() { None } else { Some(field) }
}
