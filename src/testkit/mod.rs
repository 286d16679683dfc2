//! Test harness shipped in the crate: a stateful fake Kubernetes API server that end-to-end
//! tests and benchmarks run the real operator binary and `kubectl` against, because no real
//! API server is available on the machines this project builds on.

pub mod apiserver;
