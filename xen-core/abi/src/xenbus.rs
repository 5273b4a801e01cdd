//! The xenbus device lifecycle (`io/xenbus.h`): the states
//! each end of a split device writes in its `state` node, and the
//! handshake that takes both to Connected and back to Closed.
//!
//! Each end writes its own state and watches the other's; the functions
//! here say what an end does next given both states, so frontends
//! (guest-sdk) and backends (dom0) follow the same rules.

/// `enum xenbus_state`, written in xenstore as decimal text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)] // Xen's names
pub enum XenbusState {
    Unknown = 0,
    Initialising = 1,
    InitWait = 2,
    Initialised = 3,
    Connected = 4,
    Closing = 5,
    Closed = 6,
    Reconfiguring = 7,
    Reconfigured = 8,
}

impl XenbusState {
    /// The state a `state` node holds; `None` for anything else (a peer
    /// may write garbage: treat it as a broken device).
    pub fn parse(text: &[u8]) -> Option<Self> {
        use XenbusState::*;
        Some(match text {
            b"0" => Unknown,
            b"1" => Initialising,
            b"2" => InitWait,
            b"3" => Initialised,
            b"4" => Connected,
            b"5" => Closing,
            b"6" => Closed,
            b"7" => Reconfiguring,
            b"8" => Reconfigured,
            _ => return None,
        })
    }

    /// The text to write.
    pub fn text(self) -> &'static str {
        ["0", "1", "2", "3", "4", "5", "6", "7", "8"][self as usize]
    }
}

/// What an end does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing until the other end moves.
    Wait,
    /// Backend: publish its features, then write InitWait.
    PublishFeatures,
    /// Frontend: publish its ring references and event channel, then
    /// write Initialised.
    PublishRing,
    /// Read what the other end published, map and bind, then write
    /// Connected.
    Connect,
    /// The other end is going: write Closing.
    Close,
    /// Undo the connection (unmap, unbind), then write Closed.
    Finish,
}

/// The backend's next step, its state being `own` and the frontend's
/// `frontend`.
pub fn backend_step(own: XenbusState, frontend: XenbusState) -> Step {
    use XenbusState::*;
    match (own, frontend) {
        (Initialising, _) => Step::PublishFeatures,
        (InitWait, Initialised | Connected) => Step::Connect,
        (Connected | InitWait, Closing | Closed) => Step::Close,
        (Closing, Closing | Closed | Unknown) => Step::Finish,
        _ => Step::Wait,
    }
}

/// The frontend's next step, its state being `own` and the backend's
/// `backend`.
pub fn frontend_step(own: XenbusState, backend: XenbusState) -> Step {
    use XenbusState::*;
    match (own, backend) {
        (Initialising, InitWait | Connected) => Step::PublishRing,
        (Initialised, Connected) => Step::Connect,
        (Initialised | Connected, Closing | Closed) => Step::Close,
        // Only once the backend has unmapped what it mapped (Closed) may
        // the frontend take its grants back.
        (Closing, Closed) => Step::Finish,
        _ => Step::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use XenbusState::*;

    #[test]
    fn states_read_and_write_as_xen_writes_them() {
        for state in [Unknown, Initialising, InitWait, Initialised, Connected, Closing, Closed] {
            assert_eq!(XenbusState::parse(state.text().as_bytes()), Some(state));
        }
        assert_eq!(Connected as u32, 4, "io/xenbus.h");
        assert_eq!(XenbusState::parse(b"9"), None);
        assert_eq!(XenbusState::parse(b"04"), None);
        assert_eq!(XenbusState::parse(b""), None);
    }

    /// Plays both ends against each other, applying each step's state, and
    /// returns the states each went through.
    fn play(mut front: XenbusState, mut back: XenbusState, closing_at: usize) -> (XenbusState, XenbusState, usize) {
        for round in 0..20 {
            if round == closing_at && front == Connected {
                front = Closing; // the frontend decides to go
            }
            let before = (front, back);
            back = match backend_step(back, front) {
                Step::PublishFeatures => InitWait,
                Step::Connect => Connected,
                Step::Close => Closing,
                Step::Finish => Closed,
                Step::Wait | Step::PublishRing => back,
            };
            front = match frontend_step(front, back) {
                Step::PublishRing => Initialised,
                Step::Connect => Connected,
                Step::Close => Closing,
                Step::Finish => Closed,
                Step::Wait | Step::PublishFeatures => front,
            };
            if (front, back) == before && round > closing_at {
                return (front, back, round);
            }
        }
        (front, back, 20)
    }

    #[test]
    fn the_handshake_connects_both_ends_and_closes_them() {
        let (front, back, _) = play(Initialising, Initialising, 100);
        assert_eq!((front, back), (Connected, Connected));
        let (front, back, rounds) = play(Initialising, Initialising, 5);
        assert_eq!((front, back), (Closed, Closed), "after {rounds} rounds");
    }

    #[test]
    fn a_frontend_waits_for_its_backend() {
        assert_eq!(frontend_step(Initialising, Initialising), Step::Wait);
        assert_eq!(frontend_step(Initialising, Unknown), Step::Wait);
        assert_eq!(backend_step(InitWait, Initialising), Step::Wait);
        assert_eq!(backend_step(InitWait, Closed), Step::Close, "a frontend that gave up");
        assert_eq!(
            frontend_step(Closing, Closing),
            Step::Wait,
            "the backend may still have the ring mapped"
        );
    }
}
