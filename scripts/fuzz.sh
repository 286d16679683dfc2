#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a while and fails on the first crash.
#
#   scripts/fuzz.sh [seconds-per-target]     (default 30)
#   scripts/fuzz.sh --build-only             install cargo-fuzz and build the targets only
#                                            (scripts/test.sh does it while other tests run)
#
# Environment:
#   FUZZ_TARGETS   space-separated subset of targets (default: all, from `cargo fuzz list`)
#   FUZZ_JOBS      parallel libFuzzer workers per target (default 1)
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer, coverage instrumentation). A nightly
# toolchain is used when rustup has one; otherwise RUSTC_BOOTSTRAP=1 unlocks the flags on
# stable, so the fuzz step runs either way and says which. cargo-fuzz itself is installed
# from crates.io if missing (pinned version, --locked).
#
# Findings: a crash (panic, violated invariant, sanitizer report) stops the run with a
# non-zero exit and prints the artifact path (fuzz/artifacts/<target>/crash-*). Reproduce
# with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <artifact>` inside fuzz/. The growing
# corpus lives in fuzz/corpus/<target>/ (git-ignored); committed seeds in fuzz/seeds/<target>/
# are read but never modified. See docs/fuzzing.md.
set -euo pipefail

CARGO_FUZZ_VERSION="0.13.2"
BUILD_ONLY=0
if [[ "${1:-}" == "--build-only" ]]; then
  BUILD_ONLY=1
  shift
fi
SECS="${1:-30}"
JOBS="${FUZZ_JOBS:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf 'fuzz: %s\n' "$*" >&2; }

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  export RUSTUP_TOOLCHAIN=nightly
  log "using the nightly toolchain: $(rustc +nightly --version)"
else
  export RUSTC_BOOTSTRAP=1
  log "no nightly toolchain: stable $(rustc --version | cut -d' ' -f2) with RUSTC_BOOTSTRAP=1"
fi

if ! [[ "$SECS" =~ ^[0-9]+$ ]] || [ "$SECS" -lt 1 ]; then
  log "seconds-per-target must be a positive integer, got '$SECS'"
  exit 2
fi

if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

cd "$ROOT/fuzz"
# cargo-fuzz's default build: optimized, AddressSanitizer, debug assertions and overflow
# checks on.
log "building targets (optimized, AddressSanitizer, debug assertions)"
cargo fuzz build
if ((BUILD_ONLY)); then
  log "targets built"
  exit 0
fi

TARGETS="${FUZZ_TARGETS:-$(cargo fuzz list)}"
failed=()
for target in $TARGETS; do
  mkdir -p "corpus/$target" "artifacts/$target"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  log "running $target for ${SECS}s"
  parallel=()
  # -jobs=1 would still fork a worker logging to a file; only ask for jobs when >1.
  [ "$JOBS" -gt 1 ] && parallel=(-jobs="$JOBS" -workers="$JOBS")
  if ! cargo fuzz run "$target" "corpus/$target" "${seeds[@]}" -- \
      -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      "${parallel[@]}" -print_final_stats=1; then
    failed+=("$target")
    log "CRASH in $target; artifacts:"
    ls -1 "$ROOT/fuzz/artifacts/$target/" | sed "s|^|  $ROOT/fuzz/artifacts/$target/|" >&2 || true
    log "reproduce: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $target artifacts/$target/<file>)"
    break
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "all targets ran ${SECS}s without a crash"
