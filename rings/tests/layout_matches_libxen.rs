//! Conformance: our ring layouts equal those of Debian's `libxen-dev` headers.
//!
//! A small C program prints `offsetof`, `sizeof`, ring sizes and constants
//! computed by the real `io/ring.h`, `io/blkif.h`, `io/console.h` and
//! `io/xs_wire.h`; each value is compared with the one the `rings` crate uses.
//! A peer built from those headers shares pages with us byte for byte only if
//! every pair agrees.

mod common;
mod libxen;

use common::{Request, Response};
use rings::byte_ring::{CONSOLE_IN, CONSOLE_OUT, XENSTORE_REQUESTS, XENSTORE_RESPONSES};
use rings::sring::{HEADER_BYTES, REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD, ring_size, slot_bytes};
use std::mem::{align_of, size_of};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Ring areas of order 0, 1 and 2: the sizes front ends actually grant.
const AREA_BYTES: [usize; 3] = [4096, 8192, 16384];

/// Stand-in for x86-64 `struct blkif_request`: only its size and alignment
/// reach the ring, and the probe checks both against the header.
#[repr(C, align(8))]
struct BlkifRequest([u8; 112]);

/// Stand-in for x86-64 `struct blkif_response` (`id`, `operation`, `status`).
#[repr(C, align(8))]
struct BlkifResponse([u8; 16]);

/// C definitions the probes share: the test entry types of `common/mod.rs`
/// under `DEFINE_RING_TYPES`, and an area to measure rings in.
const PRELUDE: &str = "\
struct request { uint64_t id; uint32_t value; uint32_t pad; };
struct response { uint32_t id; int32_t status; };
DEFINE_RING_TYPES(test, struct request, struct response);
/* __RING_SIZE measures from a ring's address, so give it a real one. */
static union { struct test_sring test; struct blkif_sring blkif; char bytes[16384]; } area;
";

/// Compiles and runs a C program printing each expression after `prelude`,
/// and returns the values.
fn c_values(headers: &[&str], prelude: &str, expressions: &[&str]) -> Vec<u64> {
    libxen::require_headers(headers);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rings-c-layout");
    std::fs::create_dir_all(&dir).unwrap();
    // Tests run in parallel threads: every probe gets its own files.
    static PROBES: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "probe-{}-{}",
        std::process::id(),
        PROBES.fetch_add(1, Ordering::Relaxed)
    );
    let source = dir.join(format!("{name}.c"));
    let binary = dir.join(&name);
    let mut c = String::from(
        "#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__\n\
         #include <stdint.h>\n#include <stddef.h>\n#include <stdio.h>\n",
    );
    for header in headers {
        c.push_str(&format!("#include <{header}>\n"));
    }
    c.push_str(prelude);
    c.push_str("int main(void) {\n");
    for expression in expressions {
        c.push_str(&format!(
            "    printf(\"%llu\\n\", (unsigned long long)({expression}));\n"
        ));
    }
    c.push_str("    return 0;\n}\n");
    std::fs::write(&source, c).unwrap();
    let compiled = Command::new("cc")
        .arg("-std=gnu11")
        .arg(format!("-I{}", libxen::INCLUDE_DIR))
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("run the C compiler (cc)");
    assert!(
        compiled.status.success(),
        "C probe {} failed to compile:\n{}",
        source.display(),
        String::from_utf8_lossy(&compiled.stderr)
    );
    let output = Command::new(&binary).output().expect("run the C probe");
    assert!(output.status.success(), "C probe {} failed", binary.display());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.parse().unwrap())
        .collect()
}

/// Checks each `(C expression, Rust value)` pair, reporting every mismatch.
fn assert_layouts(headers: &[&str], prelude: &str, pairs: &[(String, usize)]) {
    let expressions: Vec<&str> = pairs.iter().map(|(c, _)| c.as_str()).collect();
    let values = c_values(headers, prelude, &expressions);
    assert_eq!(values.len(), pairs.len(), "the probe printed one line per expression");
    let mismatches: Vec<String> = pairs
        .iter()
        .zip(values)
        .filter(|((_, rust), c)| *rust as u64 != *c)
        .map(|((expr, rust), c)| format!("{expr}: C says {c}, Rust says {rust}"))
        .collect();
    assert!(mismatches.is_empty(), "layout mismatches:\n{}", mismatches.join("\n"));
}

/// A `(C expression, Rust value)` pair.
fn pair(c: impl Into<String>, rust: usize) -> (String, usize) {
    (c.into(), rust)
}

/// The sring header checks for one ring type: index offsets, where the slots
/// start, slot size, and ring size for each area (by `__RING_SIZE` on a real
/// ring and by `__CONST_RING_SIZE`). Offsets, not `sizeof(struct sring)`:
/// that counts the `ring[1]` placeholder.
fn sring_pairs(name: &str, instance: &str, slot: usize) -> Vec<(String, usize)> {
    let mut pairs = vec![
        pair(format!("offsetof(struct {name}_sring, req_prod)"), REQ_PROD * 4),
        pair(format!("offsetof(struct {name}_sring, req_event)"), REQ_EVENT * 4),
        pair(format!("offsetof(struct {name}_sring, rsp_prod)"), RSP_PROD * 4),
        pair(format!("offsetof(struct {name}_sring, rsp_event)"), RSP_EVENT * 4),
        pair(format!("offsetof(struct {name}_sring, ring)"), HEADER_BYTES),
        pair(format!("sizeof(union {name}_sring_entry)"), slot),
    ];
    for bytes in AREA_BYTES {
        let slots = ring_size(bytes, slot) as usize;
        pairs.push(pair(format!("__RING_SIZE(&area.{instance}, {bytes})"), slots));
        pairs.push(pair(format!("__CONST_RING_SIZE({name}, {bytes})"), slots));
    }
    pairs
}

#[test]
fn test_ring_header_slots_and_sizes_match_define_ring_types() {
    let slot = slot_bytes::<Request, Response>();
    let mut pairs = sring_pairs("test", "test", slot);
    // The entry types themselves, so a drift in common/mod.rs shows up here.
    pairs.push(pair("sizeof(struct request)", size_of::<Request>()));
    pairs.push(pair("sizeof(struct response)", size_of::<Response>()));
    assert_layouts(&["xen/io/ring.h", "xen/io/blkif.h"], PRELUDE, &pairs);
}

#[test]
fn blkif_ring_header_slots_and_sizes_match_the_xen_header() {
    let slot = slot_bytes::<BlkifRequest, BlkifResponse>();
    let mut pairs = sring_pairs("blkif", "blkif", slot);
    // Our stand-ins carry the real entry sizes into slot_bytes.
    pairs.extend([
        pair("sizeof(struct blkif_request)", size_of::<BlkifRequest>()),
        pair("_Alignof(struct blkif_request)", align_of::<BlkifRequest>()),
        pair("sizeof(struct blkif_response)", size_of::<BlkifResponse>()),
        pair("_Alignof(struct blkif_response)", align_of::<BlkifResponse>()),
    ]);
    assert_layouts(&["xen/io/ring.h", "xen/io/blkif.h"], PRELUDE, &pairs);
}

#[test]
fn console_byte_rings_match_xencons_interface() {
    let field = |name: &str| format!("offsetof(struct xencons_interface, {name})");
    let size = |name: &str| format!("sizeof(((struct xencons_interface *)0)->{name})");
    assert_layouts(
        &["xen/io/console.h"],
        "",
        &[
            pair(field("in"), CONSOLE_IN.data_offset),
            pair(size("in"), CONSOLE_IN.size as usize),
            pair(field("in_cons"), CONSOLE_IN.cons_offset),
            pair(field("in_prod"), CONSOLE_IN.prod_offset),
            pair(field("out"), CONSOLE_OUT.data_offset),
            pair(size("out"), CONSOLE_OUT.size as usize),
            pair(field("out_cons"), CONSOLE_OUT.cons_offset),
            pair(field("out_prod"), CONSOLE_OUT.prod_offset),
            // Nothing after out_prod that we do not know about.
            pair("sizeof(struct xencons_interface)", CONSOLE_OUT.prod_offset + 4),
        ],
    );
}

#[test]
fn xenstore_byte_rings_match_xenstore_domain_interface() {
    let field = |name: &str| format!("offsetof(struct xenstore_domain_interface, {name})");
    let size = |name: &str| format!("sizeof(((struct xenstore_domain_interface *)0)->{name})");
    assert_layouts(
        &["xen/io/xs_wire.h"],
        "",
        &[
            pair("XENSTORE_RING_SIZE", XENSTORE_REQUESTS.size as usize),
            pair("XENSTORE_RING_SIZE", XENSTORE_RESPONSES.size as usize),
            pair(field("req"), XENSTORE_REQUESTS.data_offset),
            pair(size("req"), XENSTORE_REQUESTS.size as usize),
            pair(field("req_cons"), XENSTORE_REQUESTS.cons_offset),
            pair(field("req_prod"), XENSTORE_REQUESTS.prod_offset),
            pair(field("rsp"), XENSTORE_RESPONSES.data_offset),
            pair(size("rsp"), XENSTORE_RESPONSES.size as usize),
            pair(field("rsp_cons"), XENSTORE_RESPONSES.cons_offset),
            pair(field("rsp_prod"), XENSTORE_RESPONSES.prod_offset),
            // The rest of the page is xen-abi's (`xs_wire_matches_libxen`).
        ],
    );
}
