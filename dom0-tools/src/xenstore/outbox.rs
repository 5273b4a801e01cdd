//! A connection's outbox: the replies and watch events xenstored holds
//! for a client until its ring has room for them.
//!
//! Each message is charged what it costs dom0's heap (its payload and its
//! record), so that many tiny replies count as much as they weigh. Past
//! the quota, watch events are dropped (oldest first); replies are kept,
//! because xenstored stops taking a connection's requests while its
//! outbox lacks room for one more reply ([`Outbox::has_room_for_a_reply`]).

use super::wire::Message;
use alloc::collections::VecDeque;
use xen_abi::xs_wire::{XENSTORE_PAYLOAD_MAX, XsdSockmsgType};

/// What one queued message costs beyond its payload: its record.
pub const MESSAGE_COST: usize = core::mem::size_of::<Message>();

/// What the largest reply costs.
pub const LARGEST_REPLY: usize = MESSAGE_COST + XENSTORE_PAYLOAD_MAX;

/// What `message` is charged while queued.
pub fn cost(message: &Message) -> usize {
    MESSAGE_COST + message.payload.len()
}

/// Messages waiting for a client, with their cost.
#[derive(Debug, Default)]
pub struct Outbox {
    messages: VecDeque<Message>,
    /// Cost of `messages`.
    queued: usize,
    /// The most `queued` has been.
    peak: usize,
}

impl Outbox {
    /// What is queued, in bytes charged.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// The most that was ever queued.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Whether the largest reply would still fit within `limit`.
    pub fn has_room_for_a_reply(&self, limit: usize) -> bool {
        self.queued + LARGEST_REPLY <= limit
    }

    /// Queues `message` within `limit`: older watch events make room if
    /// needed; an event that finds none is dropped, a reply is kept.
    pub fn push(&mut self, message: Message, is_reply: bool, limit: usize) {
        let event = XsdSockmsgType::WatchEvent as u32;
        while self.queued + cost(&message) > limit {
            match self.messages.iter().position(|queued| queued.header.kind == event) {
                Some(index) => {
                    if let Some(dropped) = self.messages.remove(index) {
                        self.queued -= cost(&dropped);
                    }
                }
                None if !is_reply => return,
                None => break,
            }
        }
        self.queued += cost(&message);
        self.peak = self.peak.max(self.queued);
        self.messages.push_back(message);
    }

    /// The oldest message.
    pub fn pop(&mut self) -> Option<Message> {
        let message = self.messages.pop_front()?;
        self.queued -= cost(&message);
        Some(message)
    }

    /// The oldest reply, leaving the events around it queued in order.
    pub fn take_reply(&mut self) -> Option<Message> {
        let event = XsdSockmsgType::WatchEvent as u32;
        let index = self.messages.iter().position(|queued| queued.header.kind != event)?;
        let reply = self.messages.remove(index)?;
        self.queued -= cost(&reply);
        Some(reply)
    }
}
