#!/usr/bin/env bash
# Load test: gunicorn with 2 workers on loopback, demo data, locust headless; then the
# database, the search index and the audit chain are checked for consistency.
#   benchmarks/load/run.sh [sqlite|postgresql] [users] [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${1:-sqlite}; USERS=${2:-30}; SECONDS_=${3:-60}
BIN=.venv/bin
WORK=$(mktemp -d /tmp/docmgmt-load-XXXX)
# Locust logs in through the form over plain HTTP on loopback, and production's cookies are
# Secure (HTTPS only): development mode, with a random key gunicorn accepts (32 bytes or more).
export DOCMGMT_ENV=development SECRET_KEY=$($BIN/python -c "import secrets; print(secrets.token_hex(32))")
export DOCMGMT_STORAGE_DIR=$WORK/storage DOCMGMT_LOGIN_MAX_FAILURES=1000
if [ "$DB" = sqlite ]; then
  export DATABASE_URL=sqlite:///$WORK/db.sqlite3
else
  export DATABASE_URL=${LOAD_DATABASE_URL:-postgresql://docmgmt:docmgmt@127.0.0.1:5432/docmgmt_bench}
  $BIN/python scripts/empty_postgres.py "$DATABASE_URL"
fi
$BIN/flask --app wsgi db upgrade heads >/dev/null 2>&1
$BIN/flask --app wsgi demo load --if-empty >/dev/null
# API tokens for the publishing chain: the quality manager, the reviewer and the approver.
for who in qm ashead mr; do
  token=$($BIN/flask --app wsgi tokens create "$who" --name load | grep -o 'dm_[A-Za-z0-9_-]*' | head -1)
  export "LOAD_TOKEN_${who^^}=$token"
done
$BIN/gunicorn --workers 2 --bind 127.0.0.1:5077 --log-level warning wsgi:app &
GPID=$!
trap 'kill $GPID 2>/dev/null || true; wait $GPID 2>/dev/null || true' EXIT
sleep 3
$BIN/locust -f benchmarks/load/locustfile.py --headless -u "$USERS" -r 10 -t "${SECONDS_}s" \
  --host http://127.0.0.1:5077 --csv "$WORK/load" --only-summary >"$WORK/locust.log" 2>&1 || true
$BIN/python - "$WORK/load_stats.csv" <<'PY'
import csv, sys
print(f"{'request':28} {'count':>6} {'fail':>5} {'median':>7} {'p95':>7} {'req/s':>6}")
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    name = row["Name"] if row["Type"] else "ALL"
    print(f"{name:28} {row['Request Count']:>6} {row['Failure Count']:>5} "
          f"{row['50%']:>7} {row['95%']:>7} {float(row['Requests/s']):6.1f}")
PY
kill $GPID; wait $GPID 2>/dev/null || true
echo "== consistency after the run ($DB)"
$BIN/flask --app wsgi search check
$BIN/flask --app wsgi audit verify
$BIN/python - <<'PY'
from sqlalchemy import func, select
from docmgmt import create_app
from docmgmt.extensions import db
from docmgmt.versioning.models import Revision, RevisionState
with create_app().app_context():
    published = db.session.scalar(select(func.count()).where(Revision.published_dt.is_not(None)))
    worst = db.session.scalar(
        select(func.count()).where(Revision.state == RevisionState.EFFECTIVE)
        .group_by(Revision.document_id).order_by(func.count().desc()).limit(1))
    print(f"revisions published (demo included): {published}; most in force in one document: {worst}")
    assert worst == 1
PY
echo "(results in $WORK/load_stats.csv)"
