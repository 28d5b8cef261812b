#!/usr/bin/env bash
# Runs hostile inputs through the release CLI and prints, for each, its exit code, wall time
# and peak memory (GNU time), against the target of exit 2 within 1 s and 100 MiB.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cargo build --release -q -p smmu-cli
bin=target/release/smmu-sim
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin" export seed-race --format json > "$dir/seed.json" || true  # exit 1: it violates
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
seed = json.load(open(f"{d}/seed.json"))
def write(name, f):
    s = json.loads(json.dumps(seed)); f(s); json.dump(s, open(f"{d}/{name}.json", "w"))
call = seed["threads"][0]["calls"][0]
write("calls-2115", lambda s: s["threads"][0].__setitem__("calls", [call] * 2115))
write("processes-257", lambda s: s.__setitem__("processes", [{"name": f"Q{i}", "cpu_asid": 200, "page_table": "PT_P"} for i in range(257)]))
write("page-tables-100000", lambda s: s.__setitem__("page_tables", [seed["page_tables"][0]] * 100000))
write("accesses-1000000", lambda s: s["dma"][0].__setitem__("accesses", [[0, 4096]] * 1000000))
write("ansi-name", lambda s: s["threads"][0].__setitem__("name", "CPU0\u001b[31m\nx"))
PY
link=$("$bin" link seed-race)
run() {
  local label=$1; shift
  /usr/bin/time -o "$dir/time" -f '%e s, %M KiB peak' "$bin" "$@" > /dev/null 2> "$dir/err"
  local code=$?
  printf '%-28s exit %s, %s | %s\n' "$label" "$code" "$(grep -v "^Command exited" "$dir/time")" "$(head -n 1 "$dir/err")"
}
set +e
run "schedule repeat overflow" check seed-race --schedule 'CPU0 CPU0*18446744073709551615'
run "shrink repeat overflow" shrink seed-race --schedule 'CPU0 CPU0*18446744073709551615'
for f in calls-2115 processes-257 page-tables-100000 accesses-1000000 ansi-name; do run "$f" check "$dir/$f.json"; done
run "/dev/zero" check /dev/zero
run "trailing bytes" import "${link}ZZZZ"
run "version 99999999999" import "v99999999999.AAAA"
run "escaped fragment (accepted)" import "%23${link}"
