//! Manifests read and refused: the documented example, layout, every key, the
//! header and the number of domains, and the errors' line numbers.

use super::*;
use std::format;
use std::string::{String, ToString};

const MIB: u64 = 1 << 20;

fn kind_of(text: &str) -> (usize, ManifestErrorKind<'_>) {
    let error = Manifest::parse(text).unwrap_err();
    (error.line, error.kind)
}

fn one_domain(line: &str) -> Result<DomainSpec<'_>, ManifestErrorKind<'_>> {
    parse_domain(line)
}

#[test]
fn the_documented_example_parses() {
    let text = "# comments and blank lines are ignored\n\
                xen-core-manifest 1\n\
                domain dom0 kernel=dom0.elf memory=64M\n\
                domain demo kernel=hello.elf memory=16M cmdline=console=hvc0 loglevel=3\n";
    let manifest = Manifest::parse(text).unwrap();
    assert_eq!(
        manifest.domains,
        [
            DomainSpec {
                name: "dom0",
                kernel: "dom0.elf",
                memory_bytes: 64 * MIB,
                maxmem_bytes: 64 * MIB,
                ramdisk: None,
                cmdline: "",
                weight: DEFAULT_WEIGHT,
                cap: 0,
            },
            DomainSpec {
                name: "demo",
                kernel: "hello.elf",
                memory_bytes: 16 * MIB,
                maxmem_bytes: 16 * MIB,
                ramdisk: None,
                cmdline: "console=hvc0 loglevel=3",
                weight: DEFAULT_WEIGHT,
                cap: 0,
            },
        ]
    );
    assert_eq!(manifest.domain("demo").unwrap().kernel, "hello.elf");
    assert_eq!(manifest.domain("nope"), None);
}

#[test]
fn layout_is_forgiving_where_it_is_unambiguous() {
    let text = "\r\n   # indented comment\r\n\txen-core-manifest   1 \r\n\
                \n  domain\tguest_1-a   memory=4K\t kernel=k   \r\n";
    let manifest = Manifest::parse(text).unwrap();
    assert_eq!(
        manifest.domains,
        [DomainSpec {
            name: "guest_1-a",
            kernel: "k",
            memory_bytes: 4096,
            maxmem_bytes: 4096,
            ramdisk: None,
            cmdline: "",
            weight: DEFAULT_WEIGHT,
            cap: 0,
        }]
    );
}

#[test]
fn maxmem_and_ramdisk_are_read_and_checked() {
    let domain = one_domain("domain d kernel=k memory=16M maxmem=48M ramdisk=initrd.cpio").unwrap();
    assert_eq!(
        (domain.memory_bytes, domain.maxmem_bytes, domain.ramdisk),
        (16 * MIB, 48 * MIB, Some("initrd.cpio"))
    );
    let domain = one_domain("domain d kernel=k memory=16M maxmem=16M").unwrap();
    assert_eq!(domain.maxmem_bytes, 16 * MIB, "maxmem may equal memory");
    for (line, kind) in [
        (
            "domain d kernel=k memory=16M maxmem=8M",
            ManifestErrorKind::MaxmemBelowMemory("8M"),
        ),
        ("domain d kernel=k maxmem=lots", ManifestErrorKind::BadMemory("lots")),
        (
            "domain d kernel=k maxmem=65G",
            ManifestErrorKind::MemoryOutOfRange("65G"),
        ),
        ("domain d kernel=k ramdisk=", ManifestErrorKind::EmptyValue("ramdisk")),
        (
            "domain d kernel=k ramdisk=a ramdisk=b",
            ManifestErrorKind::DuplicateKey("ramdisk"),
        ),
    ] {
        assert_eq!(one_domain(line), Err(kind), "{line}");
    }
}

#[test]
fn weight_and_cap_are_read_and_checked() {
    let domain = one_domain("domain d kernel=k weight=512 cap=50").unwrap();
    assert_eq!((domain.weight, domain.cap), (512, 50));
    let domain = one_domain("domain d kernel=k").unwrap();
    assert_eq!((domain.weight, domain.cap), (DEFAULT_WEIGHT, 0));
    for (line, kind) in [
        ("domain d kernel=k weight=0", ManifestErrorKind::BadWeight("0")),
        ("domain d kernel=k weight=65536", ManifestErrorKind::BadWeight("65536")),
        ("domain d kernel=k weight=-1", ManifestErrorKind::BadWeight("-1")),
        ("domain d kernel=k cap=101", ManifestErrorKind::BadCap("101")),
        ("domain d kernel=k cap=x", ManifestErrorKind::BadCap("x")),
    ] {
        assert_eq!(one_domain(line).unwrap_err(), kind, "{line}");
    }
}

#[test]
fn memory_defaults_to_32m_and_cmdline_to_empty() {
    let domain = one_domain("domain d kernel=k").unwrap();
    assert_eq!(domain.memory_bytes, DEFAULT_MEMORY_BYTES);
    assert_eq!(domain.cmdline, "");
}

#[test]
fn cmdline_takes_the_rest_of_the_line_verbatim() {
    let domain = one_domain("domain d kernel=k cmdline=  a=b  # not a comment\tmemory=1G ").unwrap();
    assert_eq!(domain.cmdline, "  a=b  # not a comment\tmemory=1G ");
    assert_eq!(domain.memory_bytes, DEFAULT_MEMORY_BYTES);
    assert_eq!(one_domain("domain d kernel=k cmdline=").unwrap().cmdline, "");
}

#[test]
fn cmdline_must_fit_start_info() {
    let fits = format!("domain d kernel=k cmdline={}", "x".repeat(MAX_CMDLINE_LEN));
    assert_eq!(one_domain(&fits).unwrap().cmdline.len(), 1023);
    let too_long = format!("domain d kernel=k cmdline={}", "x".repeat(MAX_CMDLINE_LEN + 1));
    assert_eq!(one_domain(&too_long), Err(ManifestErrorKind::CmdlineTooLong(1024)));
}

#[test]
fn memory_sizes_are_checked() {
    for (size, bytes) in [
        ("4K", 4096),
        ("1M", MIB),
        ("3G", 3 << 30),
        ("64G", 64 << 30),
        ("0064M", 64 * MIB),
    ] {
        let line = format!("domain d kernel=k memory={size}");
        assert_eq!(one_domain(&line).map(|domain| domain.memory_bytes), Ok(bytes), "{size}");
    }
    for size in ["", "64", "1T", "16m", "M", "+4M", "-4M", "4.5M", "0x10M", "4KB", "é"] {
        let line = format!("domain d kernel=k memory={size}");
        assert_eq!(one_domain(&line), Err(ManifestErrorKind::BadMemory(size)), "{size:?}");
    }
    for size in [
        "0K",
        "0G",
        "65G",
        "65537M",
        "99999999999999999999K",
        "18014398509481984K",
    ] {
        let line = format!("domain d kernel=k memory={size}");
        assert_eq!(
            one_domain(&line),
            Err(ManifestErrorKind::MemoryOutOfRange(size)),
            "{size}"
        );
    }
    for size in ["1K", "5K", "4097K"] {
        let line = format!("domain d kernel=k memory={size}");
        assert_eq!(one_domain(&line), Err(ManifestErrorKind::MemoryNotPageMultiple(size)));
    }
}

#[test]
fn names_are_checked() {
    let longest = "a".repeat(MAX_NAME_LEN);
    assert!(one_domain(&format!("domain {longest} kernel=k")).is_ok());
    let too_long = "a".repeat(MAX_NAME_LEN + 1);
    let line = format!("domain {too_long} kernel=k");
    assert_eq!(one_domain(&line), Err(ManifestErrorKind::BadName(&too_long)));
    for name in ["Dom0", "dom.0", "dom/0", "d\u{e9}", "kernel=k"] {
        let line = format!("domain {name} kernel=k");
        assert_eq!(one_domain(&line), Err(ManifestErrorKind::BadName(name)), "{name}");
    }
    assert_eq!(one_domain("domain   "), Err(ManifestErrorKind::MissingName));
}

#[test]
fn fields_are_checked() {
    assert_eq!(
        one_domain("domain d kernel=k color=red"),
        Err(ManifestErrorKind::UnknownKey("color"))
    );
    assert_eq!(
        one_domain("domain d kernel=k verbose"),
        Err(ManifestErrorKind::MalformedSetting("verbose"))
    );
    assert_eq!(
        one_domain("domain d kernel=a kernel=b"),
        Err(ManifestErrorKind::DuplicateKey("kernel"))
    );
    assert_eq!(
        one_domain("domain d memory=1M memory=2M"),
        Err(ManifestErrorKind::DuplicateKey("memory"))
    );
    assert_eq!(
        one_domain("domain d memory=1M"),
        Err(ManifestErrorKind::MissingKernel("d"))
    );
    assert_eq!(
        one_domain("domain d kernel="),
        Err(ManifestErrorKind::EmptyValue("kernel"))
    );
    assert_eq!(
        one_domain("domain d cmdline=kernel=k"),
        Err(ManifestErrorKind::MissingKernel("d")),
        "cmdline swallows what follows it"
    );
    assert_eq!(
        one_domain("domian d kernel=k"),
        Err(ManifestErrorKind::UnknownDirective("domian"))
    );
}

#[test]
fn the_header_must_come_first() {
    assert_eq!(kind_of(""), (1, ManifestErrorKind::MissingHeader));
    assert_eq!(kind_of("# only\n\n# comments\n"), (3, ManifestErrorKind::MissingHeader));
    assert_eq!(kind_of("\ndomain d kernel=k\n"), (2, ManifestErrorKind::MissingHeader));
    assert_eq!(kind_of("xen-core-manifest\n"), (1, ManifestErrorKind::MissingHeader));
    assert_eq!(
        kind_of("xen-core-manifest 1 extra\n"),
        (1, ManifestErrorKind::MissingHeader)
    );
    assert_eq!(
        kind_of("xen-core-manifest 2\n"),
        (1, ManifestErrorKind::UnsupportedVersion("2"))
    );
}

#[test]
fn errors_carry_their_line_number() {
    let text = "xen-core-manifest 1\n# fine\ndomain a kernel=k\ndomain b kernel=k foo=1\n";
    assert_eq!(kind_of(text), (4, ManifestErrorKind::UnknownKey("foo")));
    let twice = "xen-core-manifest 1\ndomain a kernel=k\n\ndomain a kernel=j\n";
    assert_eq!(kind_of(twice), (4, ManifestErrorKind::DuplicateDomain("a")));
}

#[test]
fn there_are_one_to_max_domains() {
    assert_eq!(
        kind_of("xen-core-manifest 1\n\n# none\n"),
        (3, ManifestErrorKind::NoDomains)
    );
    let mut text = String::from("xen-core-manifest 1\n");
    for index in 0..MAX_DOMAINS {
        text += &format!("domain d{index} kernel=k\n");
    }
    assert_eq!(Manifest::parse(&text).unwrap().domains.len(), MAX_DOMAINS);
    text += "domain extra kernel=k\n";
    assert_eq!(kind_of(&text), (MAX_DOMAINS + 2, ManifestErrorKind::TooManyDomains));
}

#[test]
fn errors_read_as_one_line() {
    let error = ManifestError {
        line: 3,
        kind: ManifestErrorKind::UnknownKey("foo"),
    };
    assert_eq!(error.to_string(), "manifest line 3: unknown key `foo`");
    let kinds = [
        ManifestErrorKind::MissingHeader,
        ManifestErrorKind::UnsupportedVersion("2"),
        ManifestErrorKind::UnknownDirective("x"),
        ManifestErrorKind::MissingName,
        ManifestErrorKind::BadName("X"),
        ManifestErrorKind::DuplicateDomain("a"),
        ManifestErrorKind::TooManyDomains,
        ManifestErrorKind::MalformedSetting("x"),
        ManifestErrorKind::DuplicateKey("kernel"),
        ManifestErrorKind::MissingKernel("a"),
        ManifestErrorKind::EmptyValue("kernel"),
        ManifestErrorKind::BadMemory("1T"),
        ManifestErrorKind::MemoryOutOfRange("0K"),
        ManifestErrorKind::MemoryNotPageMultiple("5K"),
        ManifestErrorKind::CmdlineTooLong(2000),
        ManifestErrorKind::NoDomains,
    ];
    for kind in kinds {
        let text = ManifestError { line: 1, kind }.to_string();
        assert!(text.starts_with("manifest line 1: ") && !text.contains('\n'), "{text}");
    }
}
