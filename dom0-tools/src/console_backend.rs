//! The console backend's text handling: bytes from a domU's console ring
//! become lines for dom0's log, each with the domain's prefix.
//!
//! The domU controls every byte, so a line is cut at [`MAX_LINE`] bytes
//! and anything but printable ASCII and tabs is shown as `?`: a guest
//! cannot forge another domain's prefix on a line of its own, flood dom0
//! with one endless line, or send escape sequences to dom0's terminal.

/// Longest line kept; longer ones are split.
pub const MAX_LINE: usize = 200;

/// Bytes taken from one console ring in one pass of dom0's loop: one domU
/// writing as fast as dom0 prints cannot keep dom0 from the others.
pub const BYTES_PER_PASS: usize = 512;

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

    /// Takes bytes from a console ring through `read` (which fills the
    /// buffer it is given and says how many, 0 when the ring is empty),
    /// calling `emit` with each line they complete. `Ok(true)` if the ring
    /// may hold more.
    pub fn drain<E>(
        &mut self,
        mut read: impl FnMut(&mut [u8]) -> Result<usize, E>,
        mut emit: impl FnMut(&str),
    ) -> Result<bool, E> {
        let mut buffer = [0u8; 256];
        let mut taken = 0;
        while taken < BYTES_PER_PASS {
            let room = buffer.len().min(BYTES_PER_PASS - taken);
            match read(&mut buffer[..room])? {
                0 => return Ok(false),
                count => {
                    self.push(&buffer[..count], &mut emit);
                    taken += count;
                }
            }
        }
        // The budget is spent: the ring may hold more, for a later pass.
        Ok(true)
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

    /// A domU whose console holds 10 KB is taken a bounded part per pass;
    /// what is left is reported and comes out, in order and whole, in the
    /// passes that follow.
    #[test]
    fn a_pass_takes_a_bounded_part_of_a_ring_and_the_rest_follows() {
        let mut ring: alloc::collections::VecDeque<u8> = (0..500)
            .flat_map(|index| alloc::format!("line {index:03} of output\n").into_bytes())
            .collect();
        let total = ring.len();
        let mut assembler = LineAssembler::default();
        let mut out = Vec::new();
        let mut passes = 0;
        loop {
            let before = ring.len();
            let more = assembler
                .drain(
                    |buffer: &mut [u8]| {
                        let count = buffer.len().min(ring.len());
                        for (slot, byte) in buffer.iter_mut().zip(ring.drain(..count)) {
                            *slot = byte;
                        }
                        Ok::<_, ()>(count)
                    },
                    |line| out.push(String::from(line)),
                )
                .unwrap();
            assert!(
                before - ring.len() <= BYTES_PER_PASS,
                "pass {passes} took {}",
                before - ring.len()
            );
            passes += 1;
            if !more {
                break;
            }
            assert!(passes < 1000, "never done");
        }
        assert!(ring.is_empty(), "nothing left behind");
        assert!(passes >= total / BYTES_PER_PASS, "{passes} passes for {total} bytes");
        let expected: Vec<String> = (0..500)
            .map(|index| alloc::format!("line {index:03} of output"))
            .collect();
        assert_eq!(out, expected, "every line, in order");
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
