# Sourced by the other scripts: repo root as working directory, tools on PATH.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# npm's binaryen (wasm-opt 132) must come before any older system wasm-opt.
export PATH="$HOME/.cargo/bin:$PWD/web/e2e/node_modules/.bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
