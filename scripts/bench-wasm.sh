#!/usr/bin/env bash
# Runs the explorer benchmark compiled to wasm in headless Chromium (release build) and
# prints one line per case; compare with `cargo bench -p smmu-sim --bench explore`.
set -euo pipefail
bash "$(dirname "$0")/setup.sh" >/dev/null
source "$(dirname "$0")/env.sh"
# No -q: cargo would pass --quiet on to wasm-bindgen-test-runner, which rejects it.
cargo test --release --target wasm32-unknown-unknown -p smmu-web --test bench -- --nocapture 2>&1 | grep -E "wasm-bench|test result"
