#!/usr/bin/env bash
# Fuzz the JSON API with schemathesis (generated from /api/v1/openapi.json) against gunicorn on
# loopback with the demo data and a quality manager's token: no request may end in a server
# error. A fixed seed makes the run repeatable.   scripts/fuzz_api.sh [max-examples] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${1:-5}; SEED=${2:-27922}
BIN=.venv/bin
WORK=$(mktemp -d /tmp/docmgmt-fuzz-XXXX)
PORT=${FUZZ_PORT:-5144}
# FUZZ_DATABASE_URL=postgresql://… fuzzes on PostgreSQL (its schema is emptied first).
export DATABASE_URL=${FUZZ_DATABASE_URL:-sqlite:///$WORK/db.sqlite3} DOCMGMT_STORAGE_DIR=$WORK/storage
if [ -n "${FUZZ_DATABASE_URL:-}" ]; then
  $BIN/python scripts/empty_postgres.py "$DATABASE_URL"
fi
# Served by gunicorn: production, with a random key long enough for it (32 bytes or more).
export DOCMGMT_ENV=production SECRET_KEY=$($BIN/python -c "import secrets; print(secrets.token_hex(32))")
export DOCMGMT_PASSWORD_HASH=pbkdf2:sha256:1000 DOCMGMT_LOGIN_MAX_FAILURES=100000
$BIN/flask --app wsgi db upgrade heads >/dev/null 2>&1
$BIN/flask --app wsgi demo load >/dev/null
$BIN/python scripts/fuzz_dictionaries.py "$WORK/schemathesis.toml"
TOKEN=$($BIN/flask --app wsgi tokens create qm --name fuzz | grep -o 'dm_[A-Za-z0-9_-]*' | head -1)
$BIN/gunicorn --workers 2 --bind 127.0.0.1:$PORT --log-level warning wsgi:app &
GPID=$!
trap 'kill $GPID 2>/dev/null || true; wait $GPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
$BIN/schemathesis --config-file "$WORK/schemathesis.toml" run http://127.0.0.1:$PORT/api/v1/openapi.json \
  -H "Authorization: Bearer $TOKEN" --checks not_a_server_error \
  --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 --no-color > "$WORK/fuzz.log" 2>&1 && STATUS=0 || STATUS=$?
grep -B2 -A8 -E "^_{3,}|Server error|Runtime" "$WORK/fuzz.log" | head -80 || true
if [ -n "${FUZZ_LOG:-}" ]; then cp "$WORK/fuzz.log" "$FUZZ_LOG"; fi
tail -12 "$WORK/fuzz.log"
exit $STATUS
