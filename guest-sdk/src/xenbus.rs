//! A xenbus frontend: one split device's frontend directory in xenstore
//! (`device/<type>/<id>`, which the toolstack created with `backend` and
//! `backend-id`), its `state`, and the backend's, which it watches. The
//! handshake rules are `xen_abi::xenbus`.

use crate::xenstore::{self, XsError};
use core::fmt::Write;
use heapless::String;
use xen_abi::xenbus::XenbusState;

/// Longest path handled.
const PATH: usize = 128;

/// One device's frontend.
pub struct Frontend {
    dir: String<PATH>,
    backend: String<PATH>,
    token: String<32>,
}

/// `dir/key` as a path.
fn join(dir: &str, key: &str) -> Result<String<PATH>, XsError> {
    let mut path = String::new();
    write!(path, "{dir}/{key}").map_err(|_| XsError::TooLong)?;
    Ok(path)
}

impl Frontend {
    /// Opens the device at `dir` (relative, e.g. `device/vdemo/0`): reads
    /// where its backend is, watches the backend's state (events with
    /// `token`) and writes Initialising.
    pub fn open(dir: &str, token: &str) -> Result<Frontend, XsError> {
        let mut buffer = [0u8; PATH];
        let length = xenstore::read(&join(dir, "backend")?, &mut buffer)?;
        let backend = core::str::from_utf8(&buffer[..length]).map_err(|_| XsError::TooLong)?;
        let frontend = Frontend {
            dir: String::try_from(dir).map_err(|_| XsError::TooLong)?,
            backend: String::try_from(backend).map_err(|_| XsError::TooLong)?,
            token: String::try_from(token).map_err(|_| XsError::TooLong)?,
        };
        xenstore::watch(&join(&frontend.backend, "state")?, token)?;
        frontend.set_state(XenbusState::Initialising)?;
        Ok(frontend)
    }

    /// Writes our state.
    pub fn set_state(&self, state: XenbusState) -> Result<(), XsError> {
        xenstore::write(&join(&self.dir, "state")?, state.text().as_bytes())
    }

    /// Our state as xenstore has it.
    pub fn state(&self) -> Result<XenbusState, XsError> {
        self.read_state(&self.dir)
    }

    /// The backend's state (Unknown while it has none, or garbage).
    pub fn backend_state(&self) -> Result<XenbusState, XsError> {
        self.read_state(&self.backend)
    }

    fn read_state(&self, dir: &str) -> Result<XenbusState, XsError> {
        let mut buffer = [0u8; 4];
        match xenstore::read(&join(dir, "state")?, &mut buffer) {
            Ok(length) => Ok(XenbusState::parse(&buffer[..length]).unwrap_or(XenbusState::Unknown)),
            Err(error) if error.is("ENOENT") => Ok(XenbusState::Unknown),
            Err(error) => Err(error),
        }
    }

    /// Publishes `key` = `value` in our directory (ring-ref, event-channel...).
    pub fn publish(&self, key: &str, value: &str) -> Result<(), XsError> {
        xenstore::write(&join(&self.dir, key)?, value.as_bytes())
    }

    /// Sleeps until the backend's state satisfies `wanted` (or system time
    /// `deadline`); the state, or `None` at the deadline. Events of other
    /// watches that arrive meanwhile are dropped.
    pub fn wait_for_backend(
        &self,
        deadline: u64,
        wanted: impl Fn(XenbusState) -> bool,
    ) -> Result<Option<XenbusState>, XsError> {
        loop {
            let state = self.backend_state()?;
            if wanted(state) {
                return Ok(Some(state));
            }
            loop {
                match xenstore::wait_for_watch(deadline)? {
                    None => return Ok(None),
                    Some(event) if event.token.as_slice() == self.token.as_bytes() => break,
                    Some(_) => {} // another watch's event
                }
            }
        }
    }
}
