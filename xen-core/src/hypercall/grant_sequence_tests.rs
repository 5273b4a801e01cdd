//! Random sequences of a hostile granter and mapper: the frame table stays
//! sound, and both domains' frames are free after their deaths.

use super::grant_world::*;
use crate::domain::domain_death::destroy_domain;
use crate::mm::Mfn;
use xen_abi::grant_table::*;
use xen_abi::mmu::DOMID_SELF;

/// One step of a hostile pair of domains, for the random sequences below.
#[derive(Clone, Debug)]
enum GrantOp {
    /// The granter writes entry `gref` (raw flags, grantee, frame choice).
    Write {
        gref: u32,
        flags: u16,
        grantee: u8,
        frame: u8,
    },
    /// The mapper maps with these choices.
    Map { gref: u32, dom: u8, flags: u32, va: u8 },
    /// The mapper unmaps handle `handle` at address choice `va`.
    Unmap { handle: u32, va: u8 },
    /// The granter tries to revoke `gref`.
    Revoke { gref: u32 },
    /// The mapper copies with these choices.
    Copy {
        gref: u32,
        offset: u16,
        len: u16,
        by_grant: bool,
        frame: u8,
    },
}

fn grant_op() -> impl proptest::strategy::Strategy<Value = GrantOp> {
    use proptest::prelude::*;
    prop_oneof![
        (0u32..24, any::<u16>(), 0u8..4, 0u8..5).prop_map(|(gref, flags, grantee, frame)| GrantOp::Write {
            gref,
            flags,
            grantee,
            frame
        }),
        (0u32..24, 0u8..5, any::<u32>(), 0u8..6).prop_map(|(gref, dom, flags, va)| GrantOp::Map {
            gref,
            dom,
            flags,
            va
        }),
        (0u32..12, 0u8..6).prop_map(|(handle, va)| GrantOp::Unmap { handle, va }),
        (0u32..24).prop_map(|gref| GrantOp::Revoke { gref }),
        (0u32..24, any::<u16>(), any::<u16>(), any::<bool>(), 0u8..5).prop_map(
            |(gref, offset, len, by_grant, frame)| GrantOp::Copy {
                gref,
                offset,
                len,
                by_grant,
                frame
            }
        ),
    ]
}

impl World {
    /// A frame choice: the granter's data, its grant table, the mapper's
    /// L4, a free or absent frame.
    fn frame_choice(&self, table: Mfn, choice: u8) -> Mfn {
        match choice {
            0 => self.granter_frame(),
            1 => table,
            2 => self
                .d
                .table
                .get(MAPPER)
                .unwrap()
                .vcpu
                .kernel_base
                .as_ref()
                .unwrap()
                .mfn(),
            3 => Mfn(0x50),
            _ => Mfn(0xffff_ffff),
        }
    }

    /// An address choice: pages the mapper maps, one with no L1, a
    /// misaligned and a non-canonical one.
    fn va_choice(&self, base: u64, choice: u8) -> u64 {
        match choice {
            0..3 => base - u64::from(choice) * 4096,
            3 => 0x0000_7000_0000_0000,
            4 => base + 8,
            _ => 0x8000_0000_0000_0000,
        }
    }

    fn run(&mut self, table: Mfn, base: u64, op: &GrantOp) {
        match *op {
            GrantOp::Write {
                gref,
                flags,
                grantee,
                frame,
            } => {
                // Never over an entry in use: the granter's own CAS rules.
                if gref < 512
                    && !self
                        .entry_flags(table, gref)
                        .intersects(GrantFlags::READING | GrantFlags::WRITING)
                {
                    let grantee = [MAPPER, 0, GRANTER, 9][usize::from(grantee) % 4];
                    let frame = self.frame_choice(table, frame);
                    let flags =
                        GrantFlags::from_bits_retain(flags & !(GrantFlags::READING | GrantFlags::WRITING).bits());
                    self.grant(table, gref, frame, grantee, flags);
                }
            }
            GrantOp::Map { gref, dom, flags, va } => {
                self.map_va = self.va_choice(base, va);
                let dom = [GRANTER, MAPPER, 0, 7, DOMID_SELF][usize::from(dom) % 5];
                let _ = self.map(gref, dom, GntmapFlags::from_bits_retain(flags));
            }
            GrantOp::Unmap { handle, va } => {
                let _ = self.unmap(handle, self.va_choice(base, va));
            }
            GrantOp::Revoke { gref } => {
                let _ = self.revoke(table, gref);
            }
            GrantOp::Copy {
                gref,
                offset,
                len,
                by_grant,
                frame,
            } => {
                let own = self.frame_choice(table, frame);
                let (source, flags) = if by_grant {
                    (end(u64::from(gref), GRANTER, offset), GntcopyFlags::SOURCE_GREF)
                } else {
                    (end(own.0, GRANTER, offset), GntcopyFlags::empty())
                };
                let copy = GnttabCopy {
                    source,
                    dest: end(own.0, DOMID_SELF, offset % 4096),
                    len,
                    flags: flags.bits(),
                    ..Default::default()
                };
                let _ = self.copy(MAPPER, copy);
            }
        }
    }
}

proptest::proptest! {
    // Few cases: each builds two domains of 4 MiB in a debug build.
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 8, ..Default::default() })]

    /// Whatever two domains do with grants, the frame table stays
    /// consistent, and once both are destroyed every frame is free.
    #[test]
    fn random_grant_sequences_keep_the_frame_table_sound(ops in proptest::collection::vec(grant_op(), 1..40)) {
        let (mut w, table, _) = granted();
        let base = w.map_va;
        let theirs: std::vec::Vec<usize> = w
            .d
            .frames
            .frames()
            .iter()
            .enumerate()
            .filter(|(_, frame)| frame.owner() == Some(GRANTER) || frame.owner() == Some(MAPPER))
            .map(|(index, _)| index)
            .collect();
        proptest::prop_assert!(theirs.len() > 1000, "both domains own their memory");
        // The checker walks every frame (slow in a debug build): it runs
        // every few steps, and proptest's shrinking finds the step.
        for (step, op) in ops.iter().enumerate() {
            w.run(table, base, op);
            if step % 8 == 7
                && let Err(violation) = w.d.frames.check_invariants(&w.d.platform.memory)
            {
                panic!("after {op:?}: {violation}");
            }
        }
        w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
        for id in [MAPPER, GRANTER] {
            destroy_domain(&mut w.d.table, &mut w.d.frames, &mut w.d.platform.memory, id, &mut |_| ()).unwrap();
            w.d.frames.check_invariants(&w.d.platform.memory).unwrap();
        }
        let _ = w.d.frames.take_freed_orphans().count();
        let frames = w.d.frames.frames();
        let still_used = theirs.iter().filter(|&&index| !frames[index].is_free()).count();
        proptest::prop_assert_eq!(still_used, 0, "every frame of both domains is free");
    }
}
