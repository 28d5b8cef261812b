//! Any text given as a permalink: decoding never panics, and a link that opens encodes to a
//! link that opens as the same link.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smmu_sim::share;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(link) = share::decode(&text) else { return };
    let code = share::encode(&link).expect("a decoded link encodes");
    let back = share::decode(&code).expect("an encoded link decodes");
    assert_eq!(back, link, "round trip through {code}");
});
