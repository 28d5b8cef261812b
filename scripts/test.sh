#!/usr/bin/env bash
# Runs every check: formatting, lints, host tests, wasm builds, browser tests, E2E.
set -euo pipefail
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"

current=setup
times=()
trap '[ $? -eq 0 ] || echo "test.sh: FAILED at step: $current" >&2' EXIT

step() {
  current=$1
  shift
  echo "==> $current: $*"
  local start=$SECONDS
  "$@"
  times+=("$current $((SECONDS - start))s")
}

step fmt cargo fmt --all -- --check
step clippy cargo clippy --workspace --all-targets --locked -- -D warnings
step clippy-wasm cargo clippy -p smmu-web --all-targets --target wasm32-unknown-unknown --locked -- -D warnings
step test cargo test --workspace --locked
step sim-wasm cargo build -p smmu-sim --target wasm32-unknown-unknown --locked
step trunk trunk build --release --offline --locked
# No -q here: cargo would pass --quiet on to wasm-bindgen-test-runner, which rejects it.
step wasm-test cargo test --target wasm32-unknown-unknown -p smmu-web --lib --test web --locked
step e2e bash -c 'cd web/e2e && node --test'

current=done
echo "test.sh: all checks passed (${times[*]})"
