//! Page-table work that did not fit one hypercall invocation, kept until it
//! is taken up again (Xen keeps it in the page, `PGT_partial`, and in the
//! vCPU's `old_guest_table`).
//!
//! - A validation that ran out of budget stays pending, its tables typed and
//!   unvalidated: the next request for the same type of the same frame (the
//!   re-run hypercall, or any other) goes on with it and, once done, holds
//!   the typed reference. Until then nothing else can use those tables.
//! - A release (a demotion, or a validation given up) that ran out is
//!   finished before the owner's next page-table request, and its tables
//!   cannot be typed meanwhile.
//! - A destroyed domain's frames are given back over several scheduling
//!   passes ([`FrameTable::relinquish_steps`]).
//!
//! Every job holds a general reference on its root, so the frame stays
//! while the references of the requests that started it come and go.

use super::Mfn;
use super::budget::Budget;
use super::frame_info::MAX_REFS;
use super::frame_table::FrameTable;
use super::job::{Job, MAX_JOBS, Relinquishing};
use super::page_type::PageType;
use super::pending_stack::{Pending, PendingStack};
use super::promote::Validation;
use super::pte_rules::ENTRIES_PER_TABLE;
use super::release_stack::{Finish, ReleaseStack, Releasing, unwinding};
use super::teardown::Teardown;
use crate::arch::PhysicalMemory;
use xen_abi::errno::Errno;
use xen_abi::mmu::DomId;

impl FrameTable<'_> {
    /// Counts one more general reference on an owned frame, for a job.
    pub(super) fn hold(&mut self, mfn: Mfn) -> Result<(), Errno> {
        let frame = self.frame_mut(mfn).ok_or(Errno::EINVAL)?;
        if frame.count == 0 || frame.count >= MAX_REFS {
            return Err(Errno::EINVAL);
        }
        frame.count += 1;
        Ok(())
    }

    /// Counts a typed reference of `page_type` on `mfn`, whose owner the
    /// caller holds a general reference on, validating a table's tree within
    /// `budget`: -ERESTART when the budget ran out first (the validation is
    /// kept, and the same request goes on with it), the validation's error
    /// if it failed (everything it took is released).
    pub(super) fn get_type_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        mfn: Mfn,
        page_type: PageType,
        budget: &mut Budget,
    ) -> Result<(), Errno> {
        if page_type == PageType::SegDesc {
            return self.get_descriptor_type(memory, mfn);
        }
        let level = page_type.table_level();
        if let Some(level) = level
            && let Some(index) = self.jobs.iter().position(|job| {
                matches!(job, Job::Validate { stack, .. } if stack.first().is_some_and(|root| root.mfn == mfn && root.level == level))
            })
        {
            let Job::Validate { owner, stack } = self.jobs.remove(index) else {
                unreachable!("matched a validation");
            };
            return self.go_on_validating(memory, owner, stack, budget);
        }
        // The caller's general reference keeps the frame, and its owner.
        let owner = self.frame(mfn).and_then(|frame| frame.owner);
        if let (Some(_), Some(owner)) = (level, owner) {
            // One validation per domain: one it left pending and asks no more
            // about is given up (its release done first, within the budget).
            self.give_up_validation(owner);
            self.settle(memory, owner, budget)?;
        }
        if !self.begin_type(mfn, page_type)? {
            return Ok(());
        }
        let (Some(level), Some(owner)) = (level, owner) else {
            self.drop_type(mfn);
            return Err(Errno::EINVAL);
        };
        if let Err(error) = self.hold(mfn) {
            self.drop_type(mfn);
            return Err(error);
        }
        let mut stack = PendingStack::new();
        // Cannot fail: the stack is empty.
        let _ = stack.push(Pending { mfn, level, next: 0 });
        self.go_on_validating(memory, owner, stack, budget)
    }

    /// Turns `owner`'s pending validation, if any, into the release that
    /// undoes it.
    pub(super) fn give_up_validation(&mut self, owner: DomId) {
        if let Some(index) = self
            .jobs
            .iter()
            .position(|job| matches!(job, Job::Validate { owner: of, .. } if *of == owner))
        {
            let Job::Validate { stack, .. } = self.jobs.remove(index) else {
                unreachable!("matched a validation");
            };
            // Room: a job was just taken out.
            let _ = self.jobs.push(Job::Release {
                owner,
                stack: unwinding(&stack),
            });
        }
    }

    /// Runs a validation within `budget`; keeps it if the budget ran out.
    fn go_on_validating<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        mut stack: PendingStack,
        budget: &mut Budget,
    ) -> Result<(), Errno> {
        let root = stack.first().map(|pending| pending.mfn);
        match self.validate_steps(memory, owner, &mut stack, budget) {
            Validation::Done => {
                // The typed reference is the request's now; the job's hold goes.
                if let Some(root) = root {
                    let _ = self.put_page_raw(root);
                }
                Ok(())
            }
            Validation::Preempted => {
                self.keep(memory, Job::Validate { owner, stack });
                Err(Errno::ERESTART)
            }
            Validation::Failed(error) => {
                self.release_within(memory, owner, unwinding(&stack), budget);
                Err(error)
            }
        }
    }

    /// Drops a typed reference on `mfn`; if it was a table's last, releases
    /// its entries within `budget`, keeping what is left as a job.
    pub(super) fn put_type_within<M: PhysicalMemory>(&mut self, memory: &mut M, mfn: Mfn, budget: &mut Budget) {
        let owner = self.frame(mfn).and_then(|frame| frame.owner);
        let Some(level) = self.drop_type(mfn) else {
            return;
        };
        let (Some(owner), Ok(())) = (owner, self.hold(mfn)) else {
            // Unreachable: a typed frame is owned and referenced. Finish
            // the demotion without its release rather than leave it typed.
            if let Some(frame) = self.frame_mut(mfn) {
                frame.releasing = false;
                frame.page_type = PageType::None;
            }
            return;
        };
        let mut stack = ReleaseStack::new();
        let _ = stack.push(Releasing {
            mfn,
            level,
            next: 0,
            end: ENTRIES_PER_TABLE,
            finish: Finish::Demoted,
        });
        self.release_within(memory, owner, stack, budget);
    }

    /// Runs a release within `budget`; keeps it if the budget ran out.
    fn release_within<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        mut stack: ReleaseStack,
        budget: &mut Budget,
    ) {
        if !self.release_steps(memory, &mut stack, budget) {
            self.keep(memory, Job::Release { owner, stack });
        }
    }

    /// Finishes, within `budget`, the releases `owner` left unfinished:
    /// -ERESTART if one is still under way. Each page-table request of the
    /// owner's starts here, so none of them finds a table half released.
    pub fn settle<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        owner: DomId,
        budget: &mut Budget,
    ) -> Result<(), Errno> {
        while let Some(index) = self
            .jobs
            .iter()
            .position(|job| matches!(job, Job::Release { owner: of, .. } if *of == owner))
        {
            let Job::Release { mut stack, .. } = self.jobs.remove(index) else {
                unreachable!("matched a release");
            };
            if !self.release_steps(memory, &mut stack, budget) {
                self.keep(memory, Job::Release { owner, stack });
                return Err(Errno::ERESTART);
            }
        }
        Ok(())
    }

    /// Keeps a validation or a release. With the table full (which the
    /// limits above rule out), a release is finished at once and a
    /// validation given up instead: unbounded, but nothing is lost.
    fn keep<M: PhysicalMemory>(&mut self, memory: &mut M, job: Job) {
        let Err(job) = self.jobs.push(job) else {
            return;
        };
        let mut unlimited = Budget::unlimited();
        let mut stack = match job {
            Job::Validate { stack, .. } => unwinding(&stack),
            Job::Release { stack, .. } => stack,
            // Teardowns are put back where they were just taken from.
            Job::Relinquish { .. } => return,
        };
        self.release_steps(memory, &mut stack, &mut unlimited);
    }

    /// Whether any job is kept (checked on hot paths before anything else).
    #[inline]
    pub fn has_jobs(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Whether a destroyed domain's teardown is under way (the scheduler
    /// goes on with it rather than idle).
    #[inline]
    pub fn teardowns_pending(&self) -> bool {
        !self.jobs.is_empty() && self.jobs.iter().any(|job| matches!(job, Job::Relinquish { .. }))
    }

    /// The validation stacks and release stacks kept, for the invariant
    /// checker.
    pub(super) fn kept_stacks(&self) -> impl Iterator<Item = (Option<&PendingStack>, Option<&ReleaseStack>)> {
        self.jobs.iter().map(|job| match job {
            Job::Validate { stack, .. } => (Some(stack), None),
            Job::Release { stack, .. } => (None, Some(stack)),
            Job::Relinquish { .. } => (None, None),
        })
    }

    /// Starts giving back `owner`'s frames (its base pointers, shared pages
    /// and grant frames already put): the work is done by
    /// [`FrameTable::relinquish_steps`], a bounded part at a time. Should
    /// the job table be full, it is all done now, each freed frame handed
    /// to `freed`.
    pub fn begin_relinquish<M: PhysicalMemory>(&mut self, memory: &mut M, owner: DomId, freed: &mut impl FnMut(Mfn)) {
        let job = Job::Relinquish {
            owner,
            progress: Relinquishing::default(),
        };
        if let Err(Job::Relinquish { mut progress, .. }) = self.jobs.push(job) {
            let mut unlimited = Budget::unlimited();
            while self
                .relinquish_from(memory, owner, &mut progress, &mut unlimited, freed)
                .is_err()
            {}
        }
    }

    /// Goes on with the teardowns under way within `budget`, handing each
    /// frame that becomes free to `freed`; each teardown that finished, with
    /// what it did.
    pub fn relinquish_steps<M: PhysicalMemory>(
        &mut self,
        memory: &mut M,
        budget: &mut Budget,
        freed: &mut impl FnMut(Mfn),
    ) -> heapless::Vec<(DomId, Teardown), MAX_JOBS> {
        let mut finished = heapless::Vec::new();
        while let Some(index) = self.jobs.iter().position(|job| matches!(job, Job::Relinquish { .. })) {
            let Job::Relinquish { owner, mut progress } = self.jobs.remove(index) else {
                unreachable!("matched a teardown");
            };
            if self
                .relinquish_from(memory, owner, &mut progress, budget, freed)
                .is_err()
            {
                // Room: it was just taken out.
                let _ = self.jobs.push(Job::Relinquish { owner, progress });
                break;
            }
            let _ = finished.push((owner, progress.teardown));
        }
        // Grant mappings in a dead domain's tables went with them: not a
        // fault of the next domain whose page-table request looks.
        self.implicit_grant_unmaps = 0;
        finished
    }
}
