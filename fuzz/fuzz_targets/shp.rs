//! Fuzzes reading a `.shp` beside the cities' `.shx` and `.dbf`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::shapefile(data, harness::CITIES_SHX, harness::CITIES_DBF);
});
