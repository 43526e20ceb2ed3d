//! Properties the fuzz targets assert, shared between them: how to read a buffer every way
//! the core offers (so the ways can be compared), what every reader's output must look like,
//! and that what was read survives writing and reading back in each format.
//!
//! A failed property panics with a message saying which one; libFuzzer reports the panic as
//! a crash and saves the input.

pub mod invariants;
pub mod pieces;
pub mod reading;
pub mod roundtrip;
