//! Random operation sequences over several domains: every invariant holds after
//! every operation, refused operations change nothing, and destroying every
//! domain frees every frame.

use super::*;
use crate::mm::pte_rules::{GLOBAL, NX, PSE, USER};
use crate::mm::teardown::Teardown;
use crate::mm::{BaseSwitch, PageType, TypedRef};
use proptest::prelude::*;

/// Domains in the sequence.
const DOMAINS: usize = 3;
/// Frames each domain owns, starting at `domain * FRAMES_PER_DOMAIN`.
const FRAMES_PER_DOMAIN: u64 = 10;
/// Frames in the machine: the domains' plus free ones.
const MACHINE_FRAMES: u64 = DOMAINS as u64 * FRAMES_PER_DOMAIN + 4;

/// A frame named by an entry or a base switch: usually the acting domain's.
#[derive(Clone, Copy, Debug)]
enum Target {
    Own(u64),
    Foreign(usize, u64),
    Free(u64),
    OutOfRange(u64),
}

/// A frame of the acting domain: any, or (modulo their number) one of its
/// page tables in use, so that edits and unpins often hit live tables.
#[derive(Clone, Copy, Debug)]
enum Pick {
    Any(u64),
    Table(usize),
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
        frame: Pick,
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
        frame: Pick,
    },
    SwitchBase {
        domain: usize,
        target: Target,
    },
    /// A writable typed reference through a handle (mmu_update's path for
    /// frames that are not tables).
    Hold {
        domain: usize,
        target: Target,
    },
    /// Put the domain's most recent handle.
    Release {
        domain: usize,
    },
    /// Destroy the domain and give its frames to a new one.
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

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        1 => (0..FRAMES_PER_DOMAIN).prop_map(Pick::Any),
        2 => (0..8usize).prop_map(Pick::Table),
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
    prop_oneof![6 => 0..3usize, 1 => Just(256usize), 1 => Just(511usize)]
}

fn op() -> impl Strategy<Value = Op> {
    let domain = 0..DOMAINS;
    let frame = 0..FRAMES_PER_DOMAIN;
    prop_oneof![
        5 => (domain.clone(), frame.clone(), index(), target(), flags())
            .prop_map(|(domain, frame, index, target, flags)| Op::Write { domain, frame, index, target, flags }),
        5 => (domain.clone(), pick(), index(), target(), flags())
            .prop_map(|(domain, frame, index, target, flags)| Op::ModEntry { domain, frame, index, target, flags }),
        3 => (domain.clone(), frame, 0..4usize).prop_map(|(domain, frame, level)| Op::Pin { domain, frame, level }),
        2 => (domain.clone(), pick()).prop_map(|(domain, frame)| Op::Unpin { domain, frame }),
        2 => (domain.clone(), target()).prop_map(|(domain, target)| Op::SwitchBase { domain, target }),
        1 => (domain.clone(), target()).prop_map(|(domain, target)| Op::Hold { domain, target }),
        1 => domain.clone().prop_map(|domain| Op::Release { domain }),
        1 => domain.prop_map(|domain| Op::Recreate { domain }),
    ]
}

/// The machine plus each domain's id, base pointer and held handles.
struct World {
    m: Machine,
    ids: [DomId; DOMAINS],
    bases: [Option<TypedRef>; DOMAINS],
    held: [Vec<TypedRef>; DOMAINS],
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
                m.table.assign(World::frame(domain, frame), *id).unwrap();
            }
        }
        World {
            m,
            ids,
            bases: Default::default(),
            held: Default::default(),
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

    /// The frame `pick` names: with `Table(k)`, the k-th (modulo) frame of the
    /// domain that is a page table in use, if there is one.
    fn pick(&self, domain: usize, pick: Pick) -> Mfn {
        match pick {
            Pick::Any(frame) => World::frame(domain, frame),
            Pick::Table(k) => {
                let tables: Vec<Mfn> = (0..FRAMES_PER_DOMAIN)
                    .map(|frame| World::frame(domain, frame))
                    .filter(|&mfn| self.m.table.page_table_level(mfn).is_some())
                    .collect();
                let count = tables.len().max(1);
                tables.get(k % count).copied().unwrap_or(World::frame(domain, 0))
            }
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
                if self.m.table.page_table_level(mfn).is_none() {
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
                let table = self.pick(domain, frame);
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
                let mfn = self.pick(domain, frame);
                self.m.table.unpin(&mut self.m.memory, mfn, id)
            }
            Op::SwitchBase { domain, target } => {
                let id = self.ids[domain];
                let mfn = World::resolve(domain, target);
                let switch = self
                    .m
                    .table
                    .new_baseptr(&mut self.m.memory, id, &mut self.bases[domain], mfn);
                switch.map(|switch| {
                    if let BaseSwitch::Switched { old: Some(old) } = switch {
                        self.m.table.put_page_and_type(&mut self.m.memory, old);
                    }
                })
            }
            Op::Hold { domain, target } => {
                let id = self.ids[domain];
                let mfn = World::resolve(domain, target);
                let typed = self
                    .m
                    .table
                    .get_page_and_type(&mut self.m.memory, mfn, id, PageType::Writable);
                typed.map(|typed| self.held[domain].push(typed))
            }
            Op::Release { domain } => {
                if let Some(typed) = self.held[domain].pop() {
                    self.m.table.put_page_and_type(&mut self.m.memory, typed);
                }
                Ok(())
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
                unchanged_but_installed(&before, &self.m.snapshot()),
                "{op:?} failed with {result:?} and changed state"
            );
        }
    }

    /// Puts the domain's handles and destroys it: its frames must all come back.
    fn destroy(&mut self, domain: usize) {
        let mut handles: Vec<TypedRef> = self.held[domain].drain(..).collect();
        handles.extend(self.bases[domain].take());
        for typed in handles {
            self.m.table.put_page_and_type(&mut self.m.memory, typed);
        }
        let teardown = self
            .m
            .table
            .relinquish_all(&mut self.m.memory, self.ids[domain], &mut |_| ());
        assert_eq!(
            teardown,
            Teardown {
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
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_invariants(ops in proptest::collection::vec(op(), 1..150)) {
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

/// The generator's operations build real trees: a fixed script as a sanity
/// check of the harness.
#[test]
fn the_harness_builds_and_tears_down_a_tree() {
    let mut world = World::new();
    let own = |frame| Target::Own(frame);
    let write = |frame, target| Op::Write {
        domain: 0,
        frame,
        index: 0,
        target: own(target),
        flags: PRESENT | RW,
    };
    let script = [
        write(1, 2),
        write(2, 3),
        write(3, 4),
        write(4, 5),
        Op::SwitchBase {
            domain: 0,
            target: own(1),
        },
        Op::ModEntry {
            domain: 0,
            frame: Pick::Any(4),
            index: 1,
            target: own(6),
            flags: PRESENT | RW,
        },
        Op::Pin {
            domain: 0,
            frame: 3,
            level: 1,
        },
        Op::Hold {
            domain: 0,
            target: own(7),
        },
        Op::ModEntry {
            domain: 0,
            frame: Pick::Table(0),
            index: 2,
            target: own(7),
            flags: PRESENT | RW,
        },
    ];
    for op in &script {
        world.run(op);
        world.m.check();
    }
    assert_eq!(world.m.info(World::frame(0, 6)).type_count(), 1);
    assert!(world.m.info(World::frame(0, 3)).is_pinned());
    // Pick::Table(0) is frame 1, the L4: writable frame 7 cannot be its L3.
    assert_eq!(world.m.info(World::frame(0, 7)).type_count(), 1);
    world.destroy(0);
    world.m.check();
    for domain in 1..DOMAINS {
        world.destroy(domain);
    }
}
