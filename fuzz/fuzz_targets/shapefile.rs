//! Fuzzes reading all three files of a shapefile, packed (see `harness::shapefile_all`).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::shapefile_all(data);
});
