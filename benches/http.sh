#!/usr/bin/env bash
# Requests per second of an authenticated `GET /api/v1/user` against `GET /healthz`, on one
# release server with a fresh SQLite file (or WEIR_DATABASE_URL), in one run, so the ratio
# is what to compare across machines: as the super admin, and as a plain user who holds
# three roles (named permissions and menus) only through two user groups, the costliest
# permission lookup. Needs wrk (Debian: apt-get install wrk).
#   bash benches/http.sh            # 10 s per endpoint, 2 threads, 32 connections
#   DURATION=30s CONNECTIONS=64 bash benches/http.sh
#   WEIR_BIN=/tmp/weir-before bash benches/http.sh   # a given binary (to compare two builds)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-9299}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -z "${WEIR_BIN:-}" ]; then
  cargo build --release -p weir --quiet
  WEIR_BIN="${CARGO_TARGET_DIR:-target}/release/weir"
fi
WEIR_HTTP_ADDR=127.0.0.1:$PORT WEIR_DATABASE_URL=${WEIR_DATABASE_URL:-$work/bench.db} RUST_LOG=warn \
  "$WEIR_BIN" >"$work/server.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

curl -fs -H 'content-type: application/json' -d '{"email":"bench@weir.test","nickname":"Bench","password":"bench-password-1"}' \
  "$base/api/v1/user/register" >/dev/null || true
token=$(curl -fs "$base/api/v1/oauth2/token" -d grant_type=password -d username=bench@weir.test \
  -d password=bench-password-1 -d client_id=iab -d 'client_secret=milesight*iab' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')

auth=(-H "Authorization: Bearer $token")
json() { curl -fs "${auth[@]}" -H 'content-type: application/json' "$@"; }
smartbi() { curl -fs "${auth[@]}" "$base/smartbi/vision/api/$1" --data-urlencode "paramsInfo=$2" >/dev/null; }
json -d '{"email":"plain@weir.test","nickname":"Plain","password":"bench-password-1"}' \
  "$base/api/v1/user/members" >/dev/null
for g in east west; do smartbi group/create "{\"id\":\"$g\",\"name\":\"$g\"}"; done
for r in viewers operators auditors; do
  json -d "{\"name\":\"$r\",\"permissions\":[\"view-device\",\"view-dashboard\"]}" "$base/api/v2/identity/roles" >/dev/null
done
smartbi rolegroup/update '{"rolename":"viewers","groupList":["east"]}'
smartbi rolegroup/update '{"rolename":"operators","groupList":["east","west"]}'
smartbi rolegroup/update '{"rolename":"auditors","groupList":["west"]}'
smartbi usergroup/update '{"userid":"plain@weir.test","groupList":["east","west"]}'
plain=$(curl -fs "$base/api/v1/oauth2/token" -d grant_type=password -d username=plain@weir.test \
  -d password=bench-password-1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')

# Requests per second, then the median and 99th percentile latency (wrk --latency).
rps() {
  wrk --latency -t2 -c"$CONNECTIONS" -d"$DURATION" "$@" |
    awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print r, p50, p99}'
}
read -r health h50 h99 <<<"$(rps "$base/healthz")"
read -r user u50 u99 <<<"$(rps -H "Authorization: Bearer $token" "$base/api/v1/user")"
read -r grouped g50 g99 <<<"$(rps -H "Authorization: Bearer $plain" "$base/api/v1/user")"
echo "GET /healthz                      ${health} req/s  p50 ${h50}  p99 ${h99}"
echo "GET /api/v1/user (super admin)    ${user} req/s  p50 ${u50}  p99 ${u99}"
echo "GET /api/v1/user (roles by group) ${grouped} req/s  p50 ${g50}  p99 ${g99}"
python3 -c "print(f'ratio super admin/healthz     {float($user)/float($health):.3f}')"
python3 -c "print(f'ratio roles by group/healthz  {float($grouped)/float($health):.3f}')"
