//! Conformance: the xenstore message header, types, error names, limits and
//! ring page equal those of `io/xs_wire.h`.

#[macro_use]
mod common;

use common::Probe;
use xen_abi::xs_wire::*;

#[test]
fn xenstore_layouts_match_the_xen_header() {
    let mut p = Probe::new(&["xen/io/xs_wire.h"]);
    layout!(p, "struct xsd_sockmsg", XsdSockmsg {
        "type" => kind,
        "req_id" => req_id,
        "tx_id" => tx_id,
        "len" => len,
    });
    layout!(p, "struct xenstore_domain_interface", XenstoreDomainInterface {
        "req" => req,
        "rsp" => rsp,
        "req_cons" => req_cons,
        "req_prod" => req_prod,
        "rsp_cons" => rsp_cons,
        "rsp_prod" => rsp_prod,
        "server_features" => server_features,
        "connection" => connection,
        "error" => error,
    });
    p.run();
}

#[test]
fn xenstore_constants_match_the_xen_header() {
    let mut p = Probe::new(&["xen/io/xs_wire.h"]);
    constants!(p,
        XS_CONTROL => XsdSockmsgType::Control as u32,
        XS_DIRECTORY => XsdSockmsgType::Directory as u32,
        XS_READ => XsdSockmsgType::Read as u32,
        XS_GET_PERMS => XsdSockmsgType::GetPerms as u32,
        XS_WATCH => XsdSockmsgType::Watch as u32,
        XS_UNWATCH => XsdSockmsgType::Unwatch as u32,
        XS_TRANSACTION_START => XsdSockmsgType::TransactionStart as u32,
        XS_TRANSACTION_END => XsdSockmsgType::TransactionEnd as u32,
        XS_INTRODUCE => XsdSockmsgType::Introduce as u32,
        XS_RELEASE => XsdSockmsgType::Release as u32,
        XS_GET_DOMAIN_PATH => XsdSockmsgType::GetDomainPath as u32,
        XS_WRITE => XsdSockmsgType::Write as u32,
        XS_MKDIR => XsdSockmsgType::Mkdir as u32,
        XS_RM => XsdSockmsgType::Rm as u32,
        XS_SET_PERMS => XsdSockmsgType::SetPerms as u32,
        XS_WATCH_EVENT => XsdSockmsgType::WatchEvent as u32,
        XS_ERROR => XsdSockmsgType::Error as u32,
        XS_IS_DOMAIN_INTRODUCED => XsdSockmsgType::IsDomainIntroduced as u32,
        XS_RESUME => XsdSockmsgType::Resume as u32,
        XS_SET_TARGET => XsdSockmsgType::SetTarget as u32,
        XS_RESET_WATCHES => XsdSockmsgType::ResetWatches as u32,
        XS_DIRECTORY_PART => XsdSockmsgType::DirectoryPart as u32,
        // No type the header has that we do not know.
        XS_TYPE_COUNT => XsdSockmsgType::DirectoryPart as u32 + 1,
        XS_WATCH_PATH,
        XS_WATCH_TOKEN,
        XENSTORE_RING_SIZE,
        XENSTORE_PAYLOAD_MAX,
        XENSTORE_ABS_PATH_MAX,
        XENSTORE_REL_PATH_MAX,
        XENSTORE_SERVER_FEATURE_RECONNECTION,
        XENSTORE_SERVER_FEATURE_ERROR,
        XENSTORE_CONNECTED,
        XENSTORE_RECONNECT,
        XENSTORE_ERROR_NONE,
        XENSTORE_ERROR_COMM,
        XENSTORE_ERROR_RINGIDX,
        XENSTORE_ERROR_PROTO,
    );
    p.run();
}

#[test]
fn xenstore_error_names_match_the_header_table() {
    // The table exists only where errno.h has been included.
    let mut p = Probe::new(&["errno.h", "string.h", "xen/io/xs_wire.h"]);
    p.value("sizeof(xsd_errors) / sizeof(xsd_errors[0])", XsdError::ALL.len());
    for (index, error) in XsdError::ALL.into_iter().enumerate() {
        let name = error.name();
        p.value(format!("strcmp(xsd_errors[{index}].errstring, \"{name}\") == 0"), 1u32);
        p.value(format!("xsd_errors[{index}].errnum == {name}"), 1u32);
    }
    p.run();
}
