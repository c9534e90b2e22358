#!/usr/bin/env bash
# Load figures for the README ("Running on several servers"): locust through nginx on a
# running `make cluster`, 30 users for 60 s, first with both app servers behind nginx, then
# with one (nginx's upstream rewritten, the other server idle). Prints locust's table per run
# and leaves the CSVs in instance/cluster/load-*.csv.  Usage: cluster_load.sh [USERS] [SECONDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/.venv/bin}
USERS=${1:-30}
SECONDS_=${2:-60}
cd "$ROOT"
for who in qm ashead mr; do
  token=$(env $(cat instance/cluster.env) "$BIN/flask" --app wsgi tokens create "$who" --name load \
    | grep -o 'dm_[A-Za-z0-9_-]*' | head -1)
  export "LOAD_TOKEN_${who^^}=$token"
done
run() {  # run NAME UPSTREAMS
  CLUSTER_UPSTREAMS="$2" BIN="$BIN" scripts/cluster.sh nginx >/dev/null
  echo "== $1 (upstreams: $2), $USERS users, ${SECONDS_}s"
  "$BIN/locust" -f benchmarks/load/locustfile.py --headless -u "$USERS" -r 10 -t "${SECONDS_}s" \
    --host http://127.0.0.1:8080 --csv "instance/cluster/load-$1" --only-summary 2>&1 \
    | grep -E "^(Type|GET|POST|PUT|PATCH|DELETE|-|Aggregated| )" | sed -n '/Type/,/Aggregated/p' || true
}
run two-servers "5001 5002"
run one-server "5001"
CLUSTER_UPSTREAMS="5001 5002" BIN="$BIN" scripts/cluster.sh nginx >/dev/null
