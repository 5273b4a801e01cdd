//! The console backend's text handling: bytes from a domU's console ring
//! become lines for dom0's log, each with the domain's prefix.
//!
//! The domU controls every byte, so a line is cut at [`MAX_LINE`] bytes
//! and anything but printable ASCII and tabs is shown as `?`: a guest
//! cannot forge another domain's prefix on a line of its own, flood dom0
//! with one endless line, or send escape sequences to dom0's terminal.

/// Longest line kept; longer ones are split.
pub const MAX_LINE: usize = 200;

/// The part of a line received so far.
#[derive(Clone, Debug)]
pub struct LineAssembler {
    line: [u8; MAX_LINE],
    used: usize,
}

impl Default for LineAssembler {
    fn default() -> Self {
        LineAssembler {
            line: [0; MAX_LINE],
            used: 0,
        }
    }
}

impl LineAssembler {
    /// Takes `bytes`, calling `emit` with each line they complete (without
    /// its newline, made safe to print).
    pub fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(&str)) {
        for &byte in bytes {
            match byte {
                b'\n' => self.flush(&mut emit),
                b'\r' => {}
                _ => {
                    if self.used == MAX_LINE {
                        self.flush(&mut emit);
                    }
                    self.line[self.used] = if byte == b'\t' || byte.is_ascii_graphic() || byte == b' ' {
                        byte
                    } else {
                        b'?'
                    };
                    self.used += 1;
                }
            }
        }
    }

    /// Emits what is left as a line, if anything (the domain ended).
    pub fn finish(&mut self, mut emit: impl FnMut(&str)) {
        if self.used > 0 {
            self.flush(&mut emit);
        }
    }

    fn flush(&mut self, emit: &mut impl FnMut(&str)) {
        // Only printable ASCII went in.
        emit(core::str::from_utf8(&self.line[..self.used]).unwrap_or("?"));
        self.used = 0;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn lines(assembler: &mut LineAssembler, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        assembler.push(bytes, |line| out.push(String::from(line)));
        out
    }

    #[test]
    fn lines_come_out_whole_across_pieces() {
        let mut assembler = LineAssembler::default();
        assert!(lines(&mut assembler, b"hel").is_empty());
        assert_eq!(lines(&mut assembler, b"lo\r\nworld\nx"), ["hello", "world"]);
        let mut rest = Vec::new();
        assembler.finish(|line| rest.push(String::from(line)));
        assert_eq!(rest, ["x"]);
    }

    #[test]
    fn hostile_bytes_are_neutralised_and_long_lines_cut() {
        let mut assembler = LineAssembler::default();
        assert_eq!(lines(&mut assembler, b"\x1b[2Jevil\x00\xff\tok\n"), ["?[2Jevil??\tok"]);
        let long = [b'a'; MAX_LINE * 2 + 5];
        let out = lines(&mut assembler, &long);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|line| line.len() == MAX_LINE));
    }
}
