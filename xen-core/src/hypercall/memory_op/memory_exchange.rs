//! `XENMEM_exchange`: extents a domain holds for new ones of another size
//! or below an address limit (dom0's machine-contiguous DMA buffers under
//! 4 GiB), as Xen's `memory_exchange` does it.
//!
//! The work goes in chunks, each one output extent (and the input extents
//! it replaces) or one input extent (and its outputs), whichever order is
//! smaller. A chunk is all or nothing: its inputs are taken back (each held
//! by nothing but its allocation, or the chunk fails -EINVAL), the outputs
//! allocated (-ENOMEM if there are none), and only then the inputs freed and
//! the outputs given to the domain, scrubbed, entered in the M2P at the
//! guest's pseudo-physical numbers and reported. `nr_exchanged` in the
//! guest's struct counts the input extents done; it is where a preempted
//! call resumes and what a failed one reports.

use super::super::completion::Completion;
use super::super::hypercall_context::HypercallContext;
use super::reservation_change::{CONTROL_MAX_ORDER, DOMU_MAX_ORDER, INVALID_M2P_ENTRY, PAGES_PER_INVOCATION};
use super::target::resolve;
use crate::arch::{GuestMemory, MachineToPhys, PhysicalMemory, Platform};
use crate::guest_copy::{element_address, offset_address, read_from_guest, write_to_guest};
use crate::mm::tlb_flush::TlbFlush;
use crate::mm::{Mfn, Pfn};
use core::mem::offset_of;
use xen_abi::errno::Errno;
use xen_abi::memory::*;
use xen_abi::mmu::DomId;

/// `XENMEM_exchange` with the `xen_memory_exchange` at `argument`.
pub fn exchange<P: Platform>(context: &mut HypercallContext<'_, P>, argument: u64) -> Result<Completion, Errno> {
    let request: XenMemoryExchange = read_from_guest(context.platform.guest(), argument)?;
    let progress = offset_address(argument, offset_of!(XenMemoryExchange, nr_exchanged) as u64)?;
    let (input, output) = (request.input, request.output);
    let max_order = if context.domain.privilege().is_some() {
        CONTROL_MAX_ORDER
    } else {
        DOMU_MAX_ORDER
    };
    let early = |context: &mut HypercallContext<'_, P>, errno: Errno| {
        write_to_guest(context.platform.guest(), progress, &request.nr_exchanged)?;
        Err(errno)
    };
    if input.extent_order.max(output.extent_order) > max_order {
        return early(context, Errno::EPERM);
    }
    let pages = |reservation: &XenMemoryReservation| reservation.nr_extents.checked_shl(reservation.extent_order);
    let sane = request.nr_exchanged <= input.nr_extents
        && input.domid == output.domid
        && (u64::MAX >> input.extent_order) >= input.nr_extents
        && (u64::MAX >> output.extent_order) >= output.nr_extents
        && pages(&input) == pages(&output);
    if !sane {
        return early(context, Errno::EINVAL);
    }
    if request.nr_exchanged == input.nr_extents {
        return Ok(Completion::Value(0));
    }
    if output.mem_flags & XENMEMF_EXACT_NODE_REQUEST != 0 && output.mem_flags & XENMEMF_NODE_MASK != 0 {
        return early(context, Errno::EINVAL);
    }
    let target = resolve(context, input.domid)?;
    if !target.running {
        return early(context, Errno::EINVAL);
    }
    // No "12 bits or fewer" check here, as on Xen: such a limit simply
    // finds no memory.
    let bits = match xenmemf_address_bits(output.mem_flags) {
        0 => 64 + 12,
        bits => bits,
    };
    let limit = Mfn(1u64.checked_shl(bits.saturating_sub(12)).unwrap_or(u64::MAX));
    let exchange = Exchange {
        owner: target.id,
        input,
        output,
        limit,
    };
    let (in_chunk, out_chunk) = if input.extent_order <= output.extent_order {
        (output.extent_order - input.extent_order, 0)
    } else {
        (0, input.extent_order - output.extent_order)
    };
    let chunk_pages = 1u64 << input.extent_order.max(output.extent_order);
    let first = request.nr_exchanged >> in_chunk;
    let mut budget = PAGES_PER_INVOCATION;
    let mut result = Ok(());
    for chunk in first..input.nr_extents >> in_chunk {
        if chunk != first && budget < chunk_pages {
            write_to_guest(context.platform.guest(), progress, &(chunk << in_chunk))?;
            return Ok(Completion::Continue([u64::from(XENMEM_EXCHANGE), argument, 0, 0, 0]));
        }
        budget = budget.saturating_sub(chunk_pages);
        let done = exchange.chunk(context, chunk, in_chunk, out_chunk);
        // The inputs' frames may still be in this CPU's TLB through
        // mappings removed without a flush.
        context.platform.guest().flush_tlb(TlbFlush::All);
        match done {
            Ok(reported) => result = result.and(reported),
            Err(errno) => {
                write_to_guest(context.platform.guest(), progress, &(chunk << in_chunk))?;
                return Err(errno);
            }
        }
    }
    write_to_guest(context.platform.guest(), progress, &input.nr_extents)?;
    result.map(|()| Completion::Value(0))
}

/// One call's checked request.
struct Exchange {
    owner: DomId,
    input: XenMemoryReservation,
    output: XenMemoryReservation,
    limit: Mfn,
}

/// A chunk's output extents: one aligned run of the chunk's size when
/// there is one, otherwise (up to [`MAX_SEPARATE_OUTPUTS`]) one allocation
/// each.
struct Outputs {
    /// The run's first frame, if there is one run.
    run: Option<Mfn>,
    /// Otherwise each extent's first frame.
    each: heapless::Vec<Mfn, MAX_SEPARATE_OUTPUTS>,
}

impl Outputs {
    /// The first frame of output extent `index` of `order`.
    fn first(&self, index: u64, order: u32) -> Mfn {
        match self.run {
            Some(run) => Mfn(run.0 + (index << order)),
            None => self.each[index as usize],
        }
    }
}

/// Most output extents of one chunk allocated one by one.
const MAX_SEPARATE_OUTPUTS: usize = 64;

impl Exchange {
    /// Exchanges chunk `chunk`: `2^in_chunk` input extents for `2^out_chunk`
    /// output extents. `Err`: nothing changed. `Ok(Err(EFAULT))`: done, but
    /// an output could not be read or reported.
    fn chunk<P: Platform>(
        &self,
        context: &mut HypercallContext<'_, P>,
        chunk: u64,
        in_chunk: u32,
        out_chunk: u32,
    ) -> Result<Result<(), Errno>, Errno> {
        let inputs = chunk << in_chunk..(chunk + 1) << in_chunk;
        // Taken back one by one, so that a frame named twice is refused the
        // second time; undone on any failure.
        for extent in inputs.clone() {
            if let Err((errno, pages)) = self.take_input(context, extent) {
                self.restore_inputs(context, inputs.start, extent, pages);
                return Err(errno);
            }
        }
        let Some(outputs) = self.allocate_outputs(context, out_chunk) else {
            self.restore_inputs(context, inputs.start, inputs.end, 0);
            return Err(Errno::ENOMEM);
        };
        // From here the chunk cannot fail.
        for extent in inputs {
            if let Ok(first) = self.frame_number(context, self.input.extent_start, extent) {
                for page in 0..1u64 << self.input.extent_order {
                    let mfn = Mfn(first + page);
                    let (_, _, m2p) = context.platform.memory_parts();
                    m2p.set(mfn, INVALID_M2P_ENTRY);
                    context.platform.free_frame(mfn);
                }
            }
        }
        let mut reported = Ok(());
        for index in 0..1u64 << out_chunk {
            let first = outputs.first(index, self.output.extent_order);
            let extent = (chunk << out_chunk) + index;
            let pfn = self.frame_number(context, self.output.extent_start, extent);
            for page in 0..1u64 << self.output.extent_order {
                let mfn = Mfn(first.0 + page);
                // Free in the table: the allocator just handed it out.
                let _ = context.frames.assign(mfn, self.owner);
                let (memory, _, m2p) = context.platform.memory_parts();
                memory.zero_frame(mfn);
                let entry = pfn.map_or(INVALID_M2P_ENTRY, |pfn| Pfn(pfn.wrapping_add(page)));
                m2p.set(mfn, entry);
            }
            let told = pfn.and_then(|_| {
                let at = element_address(self.output.extent_start, extent, 8)?;
                write_to_guest(context.platform.guest(), at, &first.0)
            });
            if told.is_err() {
                reported = Err(Errno::EFAULT);
            }
        }
        Ok(reported)
    }

    /// Element `extent` of the frame-number array at `array`.
    fn frame_number<P: Platform>(
        &self,
        context: &mut HypercallContext<'_, P>,
        array: u64,
        extent: u64,
    ) -> Result<u64, Errno> {
        read_from_guest(context.platform.guest(), element_address(array, extent, 8)?).map_err(|_| Errno::EFAULT)
    }

    /// Takes input extent `extent` back from its owner: each page held by
    /// nothing but its allocation. On failure, the errno and how many of its
    /// pages were taken.
    fn take_input<P: Platform>(&self, context: &mut HypercallContext<'_, P>, extent: u64) -> Result<(), (Errno, u64)> {
        let first = self
            .frame_number(context, self.input.extent_start, extent)
            .map_err(|errno| (errno, 0))?;
        for page in 0..1u64 << self.input.extent_order {
            let mfn = first.checked_add(page).map(Mfn).ok_or((Errno::EINVAL, page))?;
            context
                .frames
                .take_back(mfn, self.owner)
                .map_err(|errno| (errno, page))?;
        }
        Ok(())
    }

    /// Gives back to the owner what [`Exchange::take_input`] took: extents
    /// `from..to`, and the first `pages` pages of extent `to`.
    fn restore_inputs<P: Platform>(&self, context: &mut HypercallContext<'_, P>, from: u64, to: u64, pages: u64) {
        let whole = 1u64 << self.input.extent_order;
        for extent in from..=to {
            let count = if extent == to { pages } else { whole };
            if count == 0 {
                continue;
            }
            // Read a moment ago: the guest cannot have changed it since.
            let Ok(first) = self.frame_number(context, self.input.extent_start, extent) else {
                continue;
            };
            for page in 0..count {
                let _ = context.frames.assign(Mfn(first + page), self.owner);
            }
        }
    }

    /// The chunk's `2^out_chunk` output extents below the limit, or `None`
    /// (nothing kept).
    fn allocate_outputs<P: Platform>(&self, context: &mut HypercallContext<'_, P>, out_chunk: u32) -> Option<Outputs> {
        let order = self.output.extent_order;
        if let Some(first) = context.platform.allocate_extent(order + out_chunk, self.limit) {
            return Some(Outputs {
                run: Some(first),
                each: heapless::Vec::new(),
            });
        }
        if out_chunk == 0 || (1usize << out_chunk) > MAX_SEPARATE_OUTPUTS {
            return None;
        }
        let mut firsts = heapless::Vec::new();
        for _ in 0..1u64 << out_chunk {
            match context.platform.allocate_extent(order, self.limit) {
                Some(first) => {
                    let _ = firsts.push(first);
                }
                None => {
                    for first in firsts {
                        for page in 0..1u64 << order {
                            context.platform.free_frame(Mfn(first.0 + page));
                        }
                    }
                    return None;
                }
            }
        }
        Some(Outputs {
            run: None,
            each: firsts,
        })
    }
}
