//! The balloon over a fake hypervisor with a pool of free frames.

extern crate std;

use super::*;
use std::collections::BTreeMap;
use std::vec::Vec;

/// A p2m and a hypervisor holding `free` machine frames.
struct Fake {
    p2m: BTreeMap<u64, u64>,
    free: Vec<u64>,
    held: u64,
}

impl Fake {
    /// A guest of `pages` frames (pfn N at mfn 1000 + N) and `free` more.
    fn new(pages: u64, free: u64) -> Fake {
        Fake {
            p2m: (0..pages).map(|pfn| (pfn, 1000 + pfn)).collect(),
            free: (0..free).map(|n| 90_000 + n).collect(),
            held: pages,
        }
    }

    fn run(&mut self, balloon: &mut Balloon, target: u64) -> Vec<Step> {
        let mut steps = Vec::new();
        loop {
            let step = balloon.step(self, self.held, target).unwrap();
            steps.push(step);
            if !matches!(step, Step::Gave(_) | Step::Took(_)) {
                return steps;
            }
        }
    }
}

impl BalloonMemory for Fake {
    fn mfn(&mut self, pfn: u64) -> Option<u64> {
        self.p2m.get(&pfn).copied()
    }

    fn set_mfn(&mut self, pfn: u64, mfn: Option<u64>) {
        match mfn {
            Some(mfn) => self.p2m.insert(pfn, mfn),
            None => self.p2m.remove(&pfn),
        };
    }

    fn give_back(&mut self, mfns: &mut [u64]) -> Result<usize, XenError> {
        for &mfn in mfns.iter() {
            assert!(self.p2m.values().any(|&held| held == mfn), "gives back its own frames");
            self.free.push(mfn);
        }
        self.held -= mfns.len() as u64;
        Ok(mfns.len())
    }

    fn populate(&mut self, pfns: &mut [u64]) -> Result<usize, XenError> {
        let mut came = 0;
        for slot in pfns.iter_mut() {
            let Some(mfn) = self.free.pop() else { break };
            *slot = mfn;
            came += 1;
        }
        self.held += came as u64;
        Ok(came)
    }
}

#[test]
fn lowering_the_target_gives_back_from_the_top_down_in_batches() {
    let mut fake = Fake::new(1024, 0);
    let mut balloon = Balloon::new(100, 1024, 2048);
    let steps = fake.run(&mut balloon, 1024 - 300);
    assert_eq!(steps, [Step::Gave(256), Step::Gave(44), Step::Reached]);
    assert_eq!(fake.held, 724);
    assert_eq!(balloon.backed(), 100..724);
    assert!(fake.p2m.keys().all(|&pfn| pfn < 724), "the top frames went");
    assert_eq!(fake.free.len(), 300, "the hypervisor has them");
}

#[test]
fn raising_it_fills_from_the_top_up_to_the_maximum_then_is_limited() {
    let mut fake = Fake::new(1024, 5000);
    let mut balloon = Balloon::new(100, 1024, 1600);
    assert_eq!(balloon.out(), 576, "frames beyond nr_pages start out");
    let steps = fake.run(&mut balloon, 4000);
    assert_eq!(steps, [Step::Took(256), Step::Took(256), Step::Took(64), Step::Limited]);
    assert_eq!(balloon.backed(), 100..1600);
    assert!((1024..1600).all(|pfn| fake.p2m.contains_key(&pfn)));
}

#[test]
fn a_short_hypervisor_gives_what_it_has_and_the_balloon_tries_again_later() {
    let mut fake = Fake::new(1024, 10);
    let mut balloon = Balloon::new(100, 1024, 2048);
    assert_eq!(fake.run(&mut balloon, 1100), [Step::Short(10)]);
    assert_eq!(balloon.backed(), 100..1034);
    // Another domain gives frames back; the next try reaches the target.
    fake.free.extend(50_000..50_100);
    assert_eq!(fake.run(&mut balloon, 1100), [Step::Took(66), Step::Reached]);
    assert_eq!(fake.held, 1100);
}

#[test]
fn the_guests_own_frames_are_never_given_back() {
    let mut fake = Fake::new(1024, 0);
    let mut balloon = Balloon::new(1000, 1024, 1024);
    assert_eq!(fake.run(&mut balloon, 10), [Step::Gave(24), Step::Limited]);
    assert!((0..1000).all(|pfn| fake.p2m.contains_key(&pfn)));
}
