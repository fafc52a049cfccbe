//! Fuzzes reading a `.dbf` beside the cities' `.shp` and `.shx`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::shapefile(harness::CITIES_SHP, harness::CITIES_SHX, data);
});
