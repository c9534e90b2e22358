#!/usr/bin/env bash
# Load test: gunicorn with 2 workers on loopback, demo data, locust headless; then the
# database, the search index and the audit chain are checked for consistency.
#   benchmarks/load/run.sh [sqlite|postgresql] [users] [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${1:-sqlite}; USERS=${2:-30}; SECONDS_=${3:-60}
BIN=.venv/bin
WORK=$(mktemp -d /tmp/docmgmt-load-XXXX)
export DOCMGMT_STORAGE_DIR=$WORK/storage SECRET_KEY=load-test-$RANDOM$RANDOM DOCMGMT_LOGIN_MAX_FAILURES=1000
if [ "$DB" = sqlite ]; then
  export DATABASE_URL=sqlite:///$WORK/db.sqlite3
else
  export DATABASE_URL=${LOAD_DATABASE_URL:-postgresql://docmgmt:docmgmt@127.0.0.1:5432/docmgmt_bench}
  $BIN/python - <<'PY'
import os, sqlalchemy as sa
url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
with sa.create_engine(url).begin() as c:
    c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
PY
fi
$BIN/flask --app wsgi db upgrade heads >/dev/null 2>&1
$BIN/flask --app wsgi demo load --if-empty >/dev/null
$BIN/gunicorn --workers 2 --bind 127.0.0.1:5077 --log-level warning wsgi:app &
GPID=$!
trap 'kill $GPID 2>/dev/null || true' EXIT
sleep 3
$BIN/locust -f benchmarks/load/locustfile.py --headless -u "$USERS" -r 10 -t "${SECONDS_}s" \
  --host http://127.0.0.1:5077 --csv "$WORK/load" --only-summary 2>/dev/null | tail -25
kill $GPID; wait $GPID 2>/dev/null || true
echo "== consistency after the run ($DB)"
$BIN/flask --app wsgi search check
$BIN/flask --app wsgi audit verify
echo "(results in $WORK/load_stats.csv)"
