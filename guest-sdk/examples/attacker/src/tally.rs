//! The verdicts: one line per attack, and the counts.

use guest_sdk::{XenError, println};

/// The verdicts so far.
#[derive(Default)]
pub struct Tally {
    /// Attacks refused.
    pub refused: u32,
    /// Attacks that went through.
    pub allowed: u32,
}

impl Tally {
    /// Prints and counts the verdict; returns whether the attack went through.
    pub fn verdict(&mut self, name: &str, result: Result<(), XenError>) -> bool {
        let allowed = result.is_ok();
        match result {
            Err(error) => {
                self.refused += 1;
                println!("attack {name}: refused with {error}");
            }
            Ok(()) => {
                self.allowed += 1;
                println!("attack {name}: ALLOWED");
            }
        }
        allowed
    }
}
