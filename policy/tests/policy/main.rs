//! Integration tests of `imagebump-policy`: the shared reference vectors and properties.

mod properties;
mod vectors;
