//! The back end of a descriptor ring: consumes requests, produces responses.

use crate::RingError;
use crate::shared_memory::SharedMemory;
use crate::sring::{REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD, RingEntry, SharedRing, needs_notify};
use crate::sync::{Ordering, full_barrier};

/// The back end's side of a ring (`struct *_back_ring`).
///
/// Our indices live here, privately; the shared page only receives copies.
pub struct BackRing<'m, M: SharedMemory + ?Sized, Req, Rsp> {
    ring: SharedRing<'m, M, Req, Rsp>,
    /// Next response slot to fill (`rsp_prod_pvt`).
    rsp_prod_pvt: u32,
    /// `rsp_prod` as we last published it.
    rsp_published: u32,
    /// Next request to consume (`req_cons`).
    req_cons: u32,
    /// The peer's `req_prod` as last read and checked.
    req_prod_seen: u32,
}

impl<'m, M: SharedMemory + ?Sized, Req: RingEntry, Rsp: RingEntry> BackRing<'m, M, Req, Rsp> {
    /// `BACK_RING_INIT`: attaches to a ring the front end initialised, at 0.
    pub fn new(memory: &'m M) -> Result<Self, RingError> {
        Self::attach(memory, 0)
    }

    /// `BACK_RING_ATTACH`: attaches with all indices at `start`.
    pub fn attach(memory: &'m M, start: u32) -> Result<Self, RingError> {
        let ring = SharedRing::new(memory)?;
        Ok(BackRing {
            ring,
            rsp_prod_pvt: start,
            rsp_published: start,
            req_cons: start,
            req_prod_seen: start,
        })
    }

    /// Number of slots.
    pub fn size(&self) -> u32 {
        self.ring.size()
    }

    /// Our private request consumer index (`req_cons`).
    pub fn req_cons(&self) -> u32 {
        self.req_cons
    }

    /// Our private producer index (`rsp_prod_pvt`).
    pub fn rsp_prod_pvt(&self) -> u32 {
        self.rsp_prod_pvt
    }

    /// Reads the front end's `req_prod` and checks it: there cannot be more
    /// requests outstanding than slots (`RING_REQUEST_PROD_OVERFLOW`), and the
    /// index cannot move backwards past what we consumed.
    fn refresh_requests(&mut self) -> Result<(), RingError> {
        // Acquire: requests are read only after the index that published them (rmb).
        let req_prod = self.ring.load(REQ_PROD, Ordering::Acquire);
        if req_prod.wrapping_sub(self.rsp_prod_pvt) > self.size()
            || req_prod.wrapping_sub(self.req_cons) > req_prod.wrapping_sub(self.rsp_prod_pvt)
        {
            return Err(RingError::Corrupt {
                peer_index: req_prod,
                our_index: self.req_cons,
            });
        }
        self.req_prod_seen = req_prod;
        Ok(())
    }

    /// `RING_HAS_UNCONSUMED_REQUESTS`: requests published and not consumed.
    pub fn unconsumed_requests(&mut self) -> Result<u32, RingError> {
        self.refresh_requests()?;
        Ok(self.req_prod_seen.wrapping_sub(self.req_cons))
    }

    /// Takes the next request, if one is published, as a private copy the
    /// front end can no longer change (`RING_COPY_REQUEST`).
    pub fn pop_request(&mut self) -> Result<Option<Req>, RingError> {
        if self.req_cons == self.req_prod_seen {
            self.refresh_requests()?;
            if self.req_cons == self.req_prod_seen {
                return Ok(None);
            }
        }
        let request = self.ring.read_request(self.req_cons);
        self.req_cons = self.req_cons.wrapping_add(1);
        Ok(Some(request))
    }

    /// Queues a response in the slot of the oldest unanswered request; the
    /// front end sees it after [`BackRing::push_responses_and_check_notify`].
    pub fn push_response(&mut self, response: &Rsp) -> Result<(), RingError> {
        if self.rsp_prod_pvt == self.req_cons {
            return Err(RingError::NothingToAnswer);
        }
        self.ring.write_response(self.rsp_prod_pvt, response);
        self.rsp_prod_pvt = self.rsp_prod_pvt.wrapping_add(1);
        Ok(())
    }

    /// `RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`: publishes queued responses and
    /// says whether the front end asked to be notified of any of them.
    pub fn push_responses_and_check_notify(&mut self) -> bool {
        let old = self.rsp_published;
        let new = self.rsp_prod_pvt;
        self.ring.store(RSP_PROD, new, Ordering::Release);
        self.rsp_published = new;
        full_barrier();
        needs_notify(old, new, self.ring.load(RSP_EVENT, Ordering::Relaxed))
    }

    /// `RING_FINAL_CHECK_FOR_REQUESTS`: before sleeping, asks to be notified of
    /// the next request and checks once more. `true` means there is work.
    pub fn final_check_for_requests(&mut self) -> Result<bool, RingError> {
        if self.unconsumed_requests()? > 0 {
            return Ok(true);
        }
        self.ring
            .store(REQ_EVENT, self.req_cons.wrapping_add(1), Ordering::Relaxed);
        full_barrier();
        Ok(self.unconsumed_requests()? > 0)
    }
}
