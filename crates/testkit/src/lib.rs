//! Dev-only test infrastructure (never part of the release binary): a stateful fake
//! Kubernetes API server.
//!
//! The end-to-end suite runs against a real kube-apiserver and etcd (testenv/,
//! scripts/testenv.sh). The fake remains for what a real one cannot do on demand (answer
//! 409 to the next writes, expire every open watch at a chosen moment) and for the scale
//! benchmark's fast in-process runs.

pub mod apiserver;
