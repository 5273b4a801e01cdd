//! The images every scenario boots: each example guest found from its
//! folder, and bundles refused when they name a guest there is not.

use tests::images;
use xtask::bundle::{Bundle, Domain};
use xtask::workspace_root;

#[test]
fn every_example_that_is_a_crate_is_built_as_a_guest() {
    let examples = workspace_root().join("guest-sdk").join("examples");
    let mut crates: Vec<String> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|folder| folder.join("Cargo.toml").is_file())
        .map(|folder| folder.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    let built: Vec<&str> = images().guest_names().collect();
    assert_eq!(
        built,
        crates,
        "the guests built are the crates in {}",
        examples.display()
    );
    for guest in built {
        let image = images().image_of(guest).unwrap();
        assert!(image.is_file(), "{guest}: {}", image.display());
        assert!(images().bundle_for(guest).unwrap().is_file(), "{guest}'s bundle");
    }
}

#[test]
fn a_bundle_naming_a_guest_there_is_not_is_refused_with_the_guests_there_are() {
    const UNKNOWN: Bundle = Bundle::new("unknown-guest", &[Domain::new("dom0", "no_such_guest", "memory=16M")]);
    let error = images().write(&UNKNOWN).unwrap_err().to_string();
    assert!(error.contains("no example guest \"no_such_guest\""), "{error}");
    assert!(error.contains("hello"), "{error}");
}

#[test]
fn two_different_bundles_of_one_name_are_refused() {
    const FIRST: Bundle = Bundle::new("one-name", &[Domain::new("dom0", "hello", "memory=16M")]);
    const SECOND: Bundle = Bundle::new("one-name", &[Domain::new("dom0", "hello", "memory=32M")]);
    images().write(&FIRST).unwrap();
    images().write(&FIRST).expect("the same bundle twice is fine");
    let error = images().write(&SECOND).unwrap_err().to_string();
    assert!(
        error.contains("two different bundles are named \"one-name\""),
        "{error}"
    );
}
