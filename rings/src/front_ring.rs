//! The front end of a descriptor ring: produces requests, consumes responses.

use crate::RingError;
use crate::shared_memory::SharedMemory;
use crate::sring::{REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD, RingEntry, SharedRing, needs_notify};
use crate::sync::{Ordering, full_barrier};

/// The front end's side of a ring (`struct *_front_ring`).
///
/// Our indices live here, privately; the shared page only ever receives copies,
/// so a peer overwriting them changes nothing we rely on.
pub struct FrontRing<'m, M: SharedMemory + ?Sized, Req, Rsp> {
    ring: SharedRing<'m, M, Req, Rsp>,
    /// Next request slot to fill (`req_prod_pvt`).
    req_prod_pvt: u32,
    /// `req_prod` as we last published it.
    req_published: u32,
    /// Next response to consume (`rsp_cons`).
    rsp_cons: u32,
    /// The peer's `rsp_prod` as last read and checked.
    rsp_prod_seen: u32,
}

impl<'m, M: SharedMemory + ?Sized, Req: RingEntry, Rsp: RingEntry> FrontRing<'m, M, Req, Rsp> {
    /// `SHARED_RING_INIT` + `FRONT_RING_INIT`: initialises the shared header
    /// and starts at index 0.
    pub fn new(memory: &'m M) -> Result<Self, RingError> {
        let ring = SharedRing::new(memory)?;
        ring.initialise();
        Ok(Self::with_indices(ring, 0))
    }

    /// `FRONT_RING_ATTACH`: takes over a live ring whose indices are at `start`
    /// (e.g. after resume), without touching the shared header.
    pub fn attach(memory: &'m M, start: u32) -> Result<Self, RingError> {
        Ok(Self::with_indices(SharedRing::new(memory)?, start))
    }

    fn with_indices(ring: SharedRing<'m, M, Req, Rsp>, start: u32) -> Self {
        FrontRing {
            ring,
            req_prod_pvt: start,
            req_published: start,
            rsp_cons: start,
            rsp_prod_seen: start,
        }
    }

    /// Number of slots.
    pub fn size(&self) -> u32 {
        self.ring.size()
    }

    /// `RING_FREE_REQUESTS`: slots not holding an unanswered request.
    pub fn free_requests(&self) -> u32 {
        self.size() - self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// `RING_FULL`.
    pub fn is_full(&self) -> bool {
        self.free_requests() == 0
    }

    /// Our private producer index (`req_prod_pvt`).
    pub fn req_prod_pvt(&self) -> u32 {
        self.req_prod_pvt
    }

    /// Our private response consumer index (`rsp_cons`).
    pub fn rsp_cons(&self) -> u32 {
        self.rsp_cons
    }

    /// Queues a request in the next free slot; the back end sees it only after
    /// [`FrontRing::push_requests_and_check_notify`].
    pub fn push_request(&mut self, request: &Req) -> Result<(), RingError> {
        if self.is_full() {
            return Err(RingError::Full);
        }
        self.ring.write_request(self.req_prod_pvt, request);
        self.req_prod_pvt = self.req_prod_pvt.wrapping_add(1);
        Ok(())
    }

    /// `RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`: publishes queued requests and
    /// says whether the back end asked to be notified of any of them.
    pub fn push_requests_and_check_notify(&mut self) -> bool {
        let old = self.req_published;
        let new = self.req_prod_pvt;
        // Release: the back end sees the requests before the new index (wmb).
        self.ring.store(REQ_PROD, new, Ordering::Release);
        self.req_published = new;
        // The back end sees the new index before we read its event index (mb).
        full_barrier();
        needs_notify(old, new, self.ring.load(REQ_EVENT, Ordering::Relaxed))
    }

    /// Reads the back end's `rsp_prod` and checks it: it may only answer
    /// requests we published and it has not answered yet.
    fn refresh_responses(&mut self) -> Result<(), RingError> {
        // Acquire: responses are read only after the index that published them (rmb).
        let rsp_prod = self.ring.load(RSP_PROD, Ordering::Acquire);
        let answered = rsp_prod.wrapping_sub(self.rsp_cons);
        if answered > self.req_published.wrapping_sub(self.rsp_cons) {
            return Err(RingError::Corrupt {
                peer_index: rsp_prod,
                our_index: self.rsp_cons,
            });
        }
        self.rsp_prod_seen = rsp_prod;
        Ok(())
    }

    /// `RING_HAS_UNCONSUMED_RESPONSES`: responses published and not consumed.
    pub fn unconsumed_responses(&mut self) -> Result<u32, RingError> {
        self.refresh_responses()?;
        Ok(self.rsp_prod_seen.wrapping_sub(self.rsp_cons))
    }

    /// Takes the next response, if one is published. Reads the shared index
    /// only when the responses seen so far are used up, so a batch costs one
    /// acquire load.
    pub fn pop_response(&mut self) -> Result<Option<Rsp>, RingError> {
        if self.rsp_cons == self.rsp_prod_seen {
            self.refresh_responses()?;
            if self.rsp_cons == self.rsp_prod_seen {
                return Ok(None);
            }
        }
        let response = self.ring.read_response(self.rsp_cons);
        self.rsp_cons = self.rsp_cons.wrapping_add(1);
        Ok(Some(response))
    }

    /// `RING_FINAL_CHECK_FOR_RESPONSES`: before sleeping, asks to be notified
    /// of the next response and checks once more, so a response published in
    /// between is not missed. `true` means there is work: do not sleep.
    pub fn final_check_for_responses(&mut self) -> Result<bool, RingError> {
        if self.unconsumed_responses()? > 0 {
            return Ok(true);
        }
        self.ring
            .store(RSP_EVENT, self.rsp_cons.wrapping_add(1), Ordering::Relaxed);
        full_barrier();
        Ok(self.unconsumed_responses()? > 0)
    }
}
