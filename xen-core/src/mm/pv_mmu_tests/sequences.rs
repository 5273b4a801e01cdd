//! Random operation sequences over several domains: every invariant holds after
//! every operation, refused operations change nothing, and destroying every
//! domain frees every frame.

use super::*;
use crate::mm::TypedRef;
use crate::mm::pte_rules::{GLOBAL, NX, PSE, USER};
use proptest::prelude::*;

/// Domains in the sequence.
const DOMAINS: usize = 3;
/// Frames each domain owns, starting at `domain * FRAMES_PER_DOMAIN`.
const FRAMES_PER_DOMAIN: u64 = 12;
/// Frames in the machine: the domains' plus free ones.
const MACHINE_FRAMES: u64 = DOMAINS as u64 * FRAMES_PER_DOMAIN + 4;

/// A frame picked by a sequence: usually the acting domain's.
#[derive(Clone, Copy, Debug)]
enum Target {
    Own(u64),
    Foreign(usize, u64),
    Free(u64),
    OutOfRange(u64),
}

#[derive(Clone, Debug)]
enum Op {
    /// The guest writes an entry of a frame directly (only while it is not a table).
    Write {
        domain: usize,
        frame: u64,
        index: usize,
        target: Target,
        flags: u64,
    },
    /// A validated entry edit.
    ModEntry {
        domain: usize,
        frame: u64,
        index: usize,
        target: Target,
        flags: u64,
    },
    Pin {
        domain: usize,
        frame: u64,
        level: usize,
    },
    Unpin {
        domain: usize,
        frame: u64,
    },
    SwitchBase {
        domain: usize,
        target: Target,
    },
    /// Destroy the domain and give it fresh frames.
    Recreate {
        domain: usize,
    },
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => (0..FRAMES_PER_DOMAIN).prop_map(Target::Own),
        1 => (0..DOMAINS, 0..FRAMES_PER_DOMAIN).prop_map(|(d, f)| Target::Foreign(d, f)),
        1 => (0..4u64).prop_map(Target::Free),
        1 => prop_oneof![Just(0u64), Just(1 << 30), Just((1 << 40) - 1)].prop_map(Target::OutOfRange),
    ]
}

fn flags() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(PRESENT | RW),
        3 => Just(PRESENT),
        1 => Just(PRESENT | RW | USER | ACCESSED | NX),
        1 => Just(0),
        1 => prop_oneof![Just(PRESENT | PSE), Just(PRESENT | GLOBAL), Just(PRESENT | (1 << 62))],
    ]
}

/// Entry slots: a few low ones so that trees connect, and the L4 hole.
fn index() -> impl Strategy<Value = usize> {
    prop_oneof![6 => 0..4usize, 1 => Just(256usize), 1 => Just(511usize)]
}

fn op() -> impl Strategy<Value = Op> {
    let domain = 0..DOMAINS;
    let frame = 0..FRAMES_PER_DOMAIN;
    prop_oneof![
        5 => (domain.clone(), frame.clone(), index(), target(), flags())
            .prop_map(|(domain, frame, index, target, flags)| Op::Write { domain, frame, index, target, flags }),
        5 => (domain.clone(), frame.clone(), index(), target(), flags())
            .prop_map(|(domain, frame, index, target, flags)| Op::ModEntry { domain, frame, index, target, flags }),
        3 => (domain.clone(), frame.clone(), 0..4usize).prop_map(|(domain, frame, level)| Op::Pin { domain, frame, level }),
        2 => (domain.clone(), frame.clone()).prop_map(|(domain, frame)| Op::Unpin { domain, frame }),
        2 => (domain.clone(), target()).prop_map(|(domain, target)| Op::SwitchBase { domain, target }),
        1 => domain.prop_map(|domain| Op::Recreate { domain }),
    ]
}

/// The machine plus each domain's id and base pointer.
struct World {
    m: Machine,
    ids: [DomId; DOMAINS],
    bases: [Option<TypedRef>; DOMAINS],
    next_id: DomId,
}

impl World {
    fn new() -> Self {
        let storage: &'static mut [FrameInfo] = vec![FrameInfo::FREE; MACHINE_FRAMES as usize].leak();
        let mut m = Machine {
            table: FrameTable::new(storage, hypervisor_slots()),
            memory: FakeMemory::default(),
        };
        let ids = core::array::from_fn(|domain| domain as DomId + 1);
        for (domain, id) in ids.iter().enumerate() {
            for frame in 0..FRAMES_PER_DOMAIN {
                m.table
                    .assign(Mfn(domain as u64 * FRAMES_PER_DOMAIN + frame), *id)
                    .unwrap();
            }
        }
        World {
            m,
            ids,
            bases: Default::default(),
            next_id: DOMAINS as DomId + 1,
        }
    }

    fn frame(domain: usize, frame: u64) -> Mfn {
        Mfn(domain as u64 * FRAMES_PER_DOMAIN + frame)
    }

    fn resolve(domain: usize, target: Target) -> Mfn {
        match target {
            Target::Own(frame) => World::frame(domain, frame),
            Target::Foreign(other, frame) => World::frame(other, frame),
            Target::Free(frame) => Mfn(DOMAINS as u64 * FRAMES_PER_DOMAIN + frame),
            Target::OutOfRange(offset) => Mfn(MACHINE_FRAMES + offset),
        }
    }

    /// Runs one operation; refused operations must leave no trace.
    fn run(&mut self, op: &Op) {
        let before = self.m.snapshot();
        let result = match *op {
            Op::Write {
                domain,
                frame,
                index,
                target,
                flags,
            } => {
                let mfn = World::frame(domain, frame);
                if self.m.info(mfn).type_count() == 0 || self.m.table.page_table_level(mfn).is_none() {
                    self.m.write(mfn, index, entry(World::resolve(domain, target), flags));
                }
                return;
            }
            Op::ModEntry {
                domain,
                frame,
                index,
                target,
                flags,
            } => {
                let value = entry(World::resolve(domain, target), flags);
                let id = self.ids[domain];
                let table = World::frame(domain, frame);
                self.m
                    .table
                    .mod_entry(&mut self.m.memory, table, index, value, id, id)
                    .map(|_| ())
            }
            Op::Pin { domain, frame, level } => {
                let id = self.ids[domain];
                let mfn = World::frame(domain, frame);
                self.m.table.pin(&mut self.m.memory, mfn, id, TableLevel::ALL[level])
            }
            Op::Unpin { domain, frame } => {
                let id = self.ids[domain];
                self.m.table.unpin(&mut self.m.memory, World::frame(domain, frame), id)
            }
            Op::SwitchBase { domain, target } => {
                let id = self.ids[domain];
                let mfn = World::resolve(domain, target);
                self.m
                    .table
                    .new_baseptr(&mut self.m.memory, id, &mut self.bases[domain], mfn)
            }
            Op::Recreate { domain } => {
                self.destroy(domain);
                let id = self.next_id;
                self.next_id += 1;
                self.ids[domain] = id;
                for frame in 0..FRAMES_PER_DOMAIN {
                    let mfn = World::frame(domain, frame);
                    self.m.memory.zero_frame(mfn);
                    self.m.table.assign(mfn, id).unwrap();
                }
                Ok(())
            }
        };
        if result.is_err() {
            assert!(
                self.m.snapshot() == before,
                "{op:?} failed with {result:?} and changed state"
            );
        }
    }

    /// Puts the domain's base and destroys it: its frames must all come back.
    fn destroy(&mut self, domain: usize) {
        if let Some(base) = self.bases[domain].take() {
            self.m.table.put_page_and_type(&mut self.m.memory, base);
        }
        let teardown = self.m.table.destroy_domain(&mut self.m.memory, self.ids[domain]);
        assert_eq!(
            teardown,
            crate::mm::domain_teardown::Teardown {
                freed: FRAMES_PER_DOMAIN,
                still_referenced: 0
            }
        );
        for frame in 0..FRAMES_PER_DOMAIN {
            assert!(self.m.info(World::frame(domain, frame)).is_free());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_invariants(ops in proptest::collection::vec(op(), 1..120)) {
        let mut world = World::new();
        for op in &ops {
            world.run(op);
            if let Err(violation) = world.m.table.check_invariants(&world.m.memory) {
                panic!("after {op:?}: {violation}");
            }
        }
        for domain in 0..DOMAINS {
            world.destroy(domain);
            world.m.check();
        }
        prop_assert!(world.m.table.frames().iter().all(FrameInfo::is_free));
    }
}

/// Sequences are only useful if they build real trees: a fixed script that
/// the generator's operations can express, as a sanity check of the harness.
#[test]
fn the_harness_builds_and_tears_down_a_tree() {
    let mut world = World::new();
    let script = [
        Op::Write {
            domain: 0,
            frame: 1,
            index: 0,
            target: Target::Own(2),
            flags: PRESENT | RW,
        },
        Op::Write {
            domain: 0,
            frame: 2,
            index: 0,
            target: Target::Own(3),
            flags: PRESENT | RW,
        },
        Op::Write {
            domain: 0,
            frame: 3,
            index: 0,
            target: Target::Own(4),
            flags: PRESENT | RW,
        },
        Op::Write {
            domain: 0,
            frame: 4,
            index: 0,
            target: Target::Own(5),
            flags: PRESENT | RW,
        },
        Op::SwitchBase {
            domain: 0,
            target: Target::Own(1),
        },
        Op::ModEntry {
            domain: 0,
            frame: 4,
            index: 1,
            target: Target::Own(6),
            flags: PRESENT | RW,
        },
        Op::Pin {
            domain: 0,
            frame: 3,
            level: 1,
        },
    ];
    for op in &script {
        world.run(op);
        world.m.check();
    }
    assert_eq!(world.m.info(World::frame(0, 6)).type_count(), 1);
    assert!(world.m.info(World::frame(0, 3)).is_pinned());
    world.destroy(0);
    world.m.check();
    for domain in 1..DOMAINS {
        world.destroy(domain);
    }
}
