//! Exit codes shared by the subcommands (a file of their own: every subcommand uses them,
//! and `cli/mod.rs` uses the subcommands).

pub const SUCCEEDED: u8 = 0;
pub const FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const TIMED_OUT: u8 = 3;
/// `track`: the provider could not be reached (transient errors until the deadline).
pub const UNREACHABLE: u8 = 4;
