//! Property tests of every parser that reads provider responses, the shared decoders and
//! secret redaction.

mod aws_xml;
mod decoders;
mod digest;
mod fuzzkit;
mod parsers;
mod secrets;
