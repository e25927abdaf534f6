#!/usr/bin/env bash
# Load test on loopback only (bounded in time): gunicorn + PostgreSQL with the city-scale demo.
#
#   bash bench/load/run.sh            # seeds governance_bench once (city scale), then measures
#
# Reports, for the rankings endpoint, the incident list and incident creation, next to a trivial
# endpoint on the same server (/healthz: the framework ceiling): throughput and p50/p95/p99 at a
# fixed rate below saturation (open loop: latency includes queueing), and the saturation point
# (wrk, closed loop). Then 1,000 concurrent incident reports, checked for distinct gapless numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${BENCH_DB:-governance_bench}
PORT=${PORT:-8765}
WORKERS=${WORKERS:-5}
OUT=${OUT:-bench/out/load-$(date +%Y%m%d-%H%M%S).jsonl}
mkdir -p bench/out
export PGPASSWORD=${PGPASSWORD:-postgres}
export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/$DB
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/9}
PY=.venv/bin/python

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres "$DB"
$PY manage.py migrate --noinput -v0
if [ "$(psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "SELECT count(*) FROM governance_area WHERE level='grid'")" -lt 1000 ]; then
  echo "== seeding the city-scale demo (once)"
  DEBUG=1 $PY manage.py seed_demo --scale city --months 15 | tail -n 5
fi
TOKEN_DISTRICT=$($PY manage.py drf_create_token demo_analyst | awk '{print $3}')
TOKEN_WORKER=$($PY manage.py drf_create_token demo_gridworker | awk '{print $3}')
read -r LAT LNG GRID <<<"$($PY manage.py shell -v 0 -c "
from governance.models import User
u = User.objects.get(username='demo_gridworker'); g = u.memberships.get().area
print(g.centroid_lat, g.centroid_lng, g.code)")"
read -r INDICATOR PERIOD CITY <<<"$($PY manage.py shell -v 0 -c "
from dashboards.models import IndicatorValue
v = IndicatorValue.objects.filter(area__level='district').order_by('-period').values_list('indicator', 'period', 'area__parent__code').first()
print(*v)")"

export DEBUG=0 SECRET_KEY=bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz FIELD_ENCRYPTION_KEY=development-only-field-key-do-not-use-in-production ALLOWED_HOSTS=127.0.0.1
.venv/bin/gunicorn governance.wsgi:application --bind 127.0.0.1:$PORT --workers "$WORKERS" \
  --log-level warning >/tmp/bench-gunicorn.log 2>&1 &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

BASE="http://127.0.0.1:$PORT"
RANKINGS="$BASE/api/v1/stats/rankings/?indicator=$INDICATOR&period=$PERIOD&parent=$CITY"
LIST="$BASE/api/v1/incidents/?page_size=50"
echo "== endpoints: rankings=$INDICATOR $PERIOD parent=$CITY; incident list; POST incidents in grid $GRID"

saturate() {  # name url token
  local auth=()
  [ -n "$3" ] && auth=(-H "Authorization: Token $3")
  wrk -t2 -c32 -d15s --latency "${auth[@]}" "$2" | awk -v n="$1" '/Requests\/sec/ {print "{\"saturation\": \"" n "\", \"rps\": " $2 "}"}' | tee -a "$OUT"
}
fixed() {  # name rate url token [method body]
  $PY bench/load/loadgen.py --url "$3" --rate "$2" --seconds 20 --header "Authorization: Token $4" \
    ${5:+--method $5} ${6:+--body "$6"} --header "Content-Type: application/json" --json-out "$OUT" \
    | sed "s/^/$1: /"
}

saturate healthz "$BASE/healthz" ""
saturate rankings "$RANKINGS" "$TOKEN_DISTRICT"
saturate incident_list "$LIST" "$TOKEN_DISTRICT"
fixed healthz "${RATE_HEALTHZ:-200}" "$BASE/healthz" "$TOKEN_DISTRICT"
fixed rankings "${RATE_RANKINGS:-100}" "$RANKINGS" "$TOKEN_DISTRICT"
fixed incident_list "${RATE_LIST:-30}" "$LIST" "$TOKEN_DISTRICT"
BEFORE=$(psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "SELECT count(*) FROM grids_incident")
fixed incident_create "${RATE_CREATE:-20}" "$BASE/api/v1/incidents/" "$TOKEN_WORKER" POST \
  "{\"category\": \"sanitation\", \"description\": \"load test {n}\", \"lat\": $LAT, \"lng\": $LNG}"

echo "== 1,000 concurrent incident reports (64 connections at once)"
YEAR=$(date +%Y)
RUN=$(date +%s)
START_MAX=$(psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "SELECT coalesce(max(value),0) FROM governance_sequencecounter WHERE key='INC' AND year=$YEAR")
$PY bench/load/loadgen.py --url "$BASE/api/v1/incidents/" --rate 1000 --seconds 1 --threads 64 --method POST \
  --header "Authorization: Token $TOKEN_WORKER" --header "Content-Type: application/json" \
  --body "{\"category\": \"sanitation\", \"description\": \"burst-$RUN {n}\", \"lat\": $LAT, \"lng\": $LNG}" --json-out "$OUT"
psql -h 127.0.0.1 -U postgres -d "$DB" -tAc "
  WITH burst AS (SELECT split_part(code, '-', 3)::int AS n FROM grids_incident WHERE description LIKE 'burst-$RUN %')
  SELECT json_build_object('burst_rows', count(*), 'distinct_numbers', count(DISTINCT n),
         'gapless', max(n) - min(n) + 1 = count(*), 'first', min(n), 'last', max(n), 'counter_before', $START_MAX)
  FROM burst" | tee -a "$OUT"
echo "results appended to $OUT"
