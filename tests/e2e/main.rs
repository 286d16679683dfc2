//! End-to-end suite: the real operator binary, the real kubectl, the fake Kubernetes API
//! server and the provider simulator (issue 6), plus fault and secret handling (issue 9).
//!
//! Needs kubectl (`$KUBECTL`, else `/usr/bin/kubectl`; `apt-get install kubectl`): the
//! suite fails without it. Every wait is bounded; the suite runs in about a minute or two.

mod harness;
mod history;
mod manifests;

mod cli;
mod faults;
mod lifecycle;
mod providers;
mod secrets;
