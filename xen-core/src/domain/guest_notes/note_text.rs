//! The start of a guest's string, kept to be shown safely in an error message.

use core::fmt::{self, Write};

/// The start of a guest's string, kept for an error message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteText {
    text: heapless::String<{ NoteText::MAX_BYTES }>,
    cut: bool,
}

impl NoteText {
    /// Bytes of the string kept.
    pub const MAX_BYTES: usize = 40;

    /// Keeps up to [`Self::MAX_BYTES`] bytes of `text`, cut at a character boundary.
    pub fn new(text: &str) -> NoteText {
        let mut kept = heapless::String::new();
        let mut cut = false;
        for character in text.chars() {
            if kept.push(character).is_err() {
                cut = true;
                break;
            }
        }
        NoteText { text: kept, cut }
    }
}

/// Shows the text quoted with its control characters escaped, so that a hostile
/// string cannot break the line; `…` marks a cut.
impl fmt::Display for NoteText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for character in self.text.chars() {
            if character.is_control() || character == '"' || character == '\\' {
                write!(f, "{}", character.escape_default())?;
            } else {
                f.write_char(character)?;
            }
        }
        f.write_char('"')?;
        if self.cut {
            f.write_char('…')?;
        }
        Ok(())
    }
}
