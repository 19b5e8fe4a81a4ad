//! Renderers. They read a [`crate::timeline::Timeline`] (and later the findings) and print;
//! they never compute anything that changes a result.

pub mod csv;
pub mod findings;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod machine;
pub mod sarif;
pub mod table;

pub use crate::timeline::View;
