#!/usr/bin/env bash
# Fuzzes the model's hostile-input entry points with libFuzzer, one target after another.
#
#   bash fuzz/run.sh [seconds-per-target] [target...]    (default: 600 s, every target)
#
# New corpus entries go to fuzz/work/<target>/ (ignored by git); fuzz/corpus/<target>/ stays
# the checked-in seed; fuzz/dict/ holds the input formats' keywords. A crashing input is
# written to fuzz/artifacts/<target>/. Prints, per target, the seconds fuzzed, executions,
# corpus entries and whether it crashed; exits 1 if any did.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

seconds=${1:-600}
shift $(($# > 0 ? 1 : 0))
case $seconds in '' | *[!0-9]*) echo "run.sh: seconds must be a number, not '$seconds'" >&2; exit 2 ;; esac

if ! cargo fuzz --version > /dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install --locked cargo-fuzz || exit 2
fi
if ! cargo +nightly --version > /dev/null 2>&1; then
  echo "run.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 2
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
(cd fuzz && for t in "${targets[@]}"; do cargo +nightly fuzz build "$t" || exit 2; done) || exit 2

# The dictionary of a target's input format, if it has one.
dict_of() {
  case $1 in
    scenario_json | run_decoded) echo dict/scenario.dict ;;
    schedule_parse) echo dict/schedule.dict ;;
  esac
}

# One line per target from its libFuzzer log: seconds fuzzed, executions, corpus entries,
# verdict.
summarise() {
  local t=$1 log=$2 rc=$3 secs execs corpus verdict
  secs=$(grep -oE '^Done [0-9]+ runs in [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
  execs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tr -d '#' | tail -n 1)
  corpus=$(grep -oE 'corp: [0-9]+' "$log" | grep -oE '[0-9]+' | tail -n 1)
  verdict=ok
  [ "$rc" -eq 0 ] || verdict="CRASH (exit $rc; see $log and fuzz/artifacts/$t/)"
  printf '%-16s %6ss %12s execs %6s corpus  %s\n' "$t" "${secs:-$4}" "${execs:-?}" "${corpus:-?}" "$verdict"
}

failed=0
lines=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/work/$t" "fuzz/corpus/$t"
  log="fuzz/work/$t.log"
  echo "==> $t: $seconds s (log: $log)"
  start=$SECONDS
  dict=$(dict_of "$t")
  (cd fuzz && cargo +nightly fuzz run "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 ${dict:+-dict="$dict"}) > "$log" 2>&1
  rc=$?
  line=$(summarise "$t" "$log" "$rc" $((SECONDS - start)))
  echo "$line"
  lines+=("$line")
  [ "$rc" -eq 0 ] || failed=1
done

echo "==> summary"
printf '%s\n' "${lines[@]}"
exit "$failed"
