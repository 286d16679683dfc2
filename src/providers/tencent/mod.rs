//! Provider module (being implemented).

pub mod sign;
