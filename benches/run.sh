#!/usr/bin/env bash
# Issue 16's table in one command: every row with its reference measured in the same run, on
# SQLite (a temp file) and PostgreSQL (fresh `bench_*` databases, dropped after), then ONE
# table: measure, Weir's figure, the reference, the ratio, the goal, met or not.
#
#   bash benches/run.sh                 # 10 s per figure
#   DURATION=30 bash benches/run.sh     # seconds per figure (a trailing "s" is allowed)
#
# What it runs, one after the other (the load tool, the servers and the databases share the
# machine, so compare ratios within a run, and read the load average printed at both ends):
# - builds the release binary and benches once (cargo build --release -p weir --bins --benches);
# - idle RSS: the release server on a fresh SQLite file, /healthz answering plus 2 s, VmRSS and
#   threads from /proc/<pid>/status;
# - per backend, the release server: wrk (2 threads, CONNECTIONS=32) on `GET /healthz`, then on
#   an authenticated `GET /api/v1/user` as a plain user with ONE role; then Weir's five-node
#   httpIn flow (the logic of crates/app/benches/workflow.rs, made through the REST API) by
#   wrk with 10 connections;
# - Node-RED 4 (installed with npm into ${XDG_CACHE_HOME:-~/.cache}/weir/node-red, once) with
#   the same flow (benches/node-red/), by the same wrk with 10 connections, same duration;
# - per backend, the workflow bench (event flows closed loop, and the flood with its lost
#   runs) and the ingest bench (HTTP ingest with its p99, hand-written INSERT, binary COPY on
#   PostgreSQL, MQTT through Mosquitto at WEIR_BENCH_MQTT_URL or mqtt://127.0.0.1:1883).
#
# Needs: cargo, wrk (apt-get install wrk), psql and a PostgreSQL where user postgres may
# create databases (WEIR_BENCH_PG, default postgres://postgres@127.0.0.1:5432), Node.js 20 and
# npm, python3, curl, Mosquitto for the MQTT row. Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "$1 is needed: $2" >&2; exit 1; }; }
need wrk "apt-get install wrk"
need psql "apt-get install postgresql-client"
need node "install Node.js 20 (https://nodejs.org, or apt-get install nodejs npm)"
need npm "install npm (apt-get install npm)"
need python3 "apt-get install python3"
need curl "apt-get install curl"
need cargo "install Rust (https://rustup.rs)"

DURATION=${DURATION:-10}
secs=${DURATION%s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-9299}
NODE_RED_PORT=${NODE_RED_PORT:-1880}
NODE_RED_VERSION=4.1.8
PG=${WEIR_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
node_red_dir=${XDG_CACHE_HOME:-$HOME/.cache}/weir/node-red
work=$(mktemp -d)
out=$work/out # one file per figure, read by the table at the end
mkdir -p "$out"
pids=()
dbs=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  for db in "${dbs[@]}"; do
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load() { cut -d' ' -f1-3 /proc/loadavg; }
say() { echo "== $* (load $(load))" >&2; }
db_url=
fresh_db() { # name; sets db_url (not in a subshell, so that the exit trap drops it)
  local db=bench_$$_$1
  PGOPTIONS="-c client_min_messages=warning" psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql "$PG/postgres" -qc "CREATE DATABASE $db" >/dev/null
  dbs+=("$db")
  db_url=$PG/$db
}

echo "load average at start: $(load) ($(nproc) cores)" | tee "$out/load_start"
say "building the release binary and benches"
build_json=$work/build.json
cargo build --release -p weir --bins --benches --message-format=json-render-diagnostics >"$build_json"
artifact() {
  python3 - "$build_json" "$1" "$2" <<'EOF'
import json, sys
path, kind, name = sys.argv[1:]
for line in open(path):
    m = json.loads(line)
    # A bin is also built as a bench harness (profile.test): not the server.
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == name \
            and kind in m["target"]["kind"] and m.get("executable") \
            and m["profile"]["test"] == (kind == "bench"):
        print(m["executable"])
        break
EOF
}
weir_bin=$(artifact bin weir)
ingest_bin=$(artifact bench ingest)
workflow_bin=$(artifact bench workflow)
[ -x "$weir_bin" ] && [ -x "$ingest_bin" ] && [ -x "$workflow_bin" ] ||
  { echo "the build did not name the weir binary and the ingest and workflow benches" >&2; exit 1; }

base=http://127.0.0.1:$PORT
server=
start_weir() { # database URL; the embedded broker on a port of its own, beside Mosquitto
  WEIR_HTTP_ADDR=127.0.0.1:$PORT WEIR_DATABASE_URL=$1 WEIR_MQTT__EMBEDDED_ADDR=127.0.0.1:$((PORT + 1)) \
    RUST_LOG=warn "$weir_bin" >>"$work/server.log" 2>&1 &
  server=$!
  pids+=("$server")
  for _ in $(seq 300); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not answer /healthz within 30 s:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
}
stop_weir() { kill "$server" && wait "$server" 2>/dev/null || true; }

token() { # email
  curl -fs "$base/api/v1/oauth2/token" -d grant_type=password -d username="$1" \
    -d password=bench-password-1 -d client_id=iab -d 'client_secret=milesight*iab' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])'
}
# wrk's output, kept whole for the table: wrk_to NAME CONNECTIONS wrk-arguments...
wrk_to() {
  local name=$1 c=$2
  shift 2
  wrk --latency -t2 -c"$c" -d"${secs}s" "$@" >"$out/$name.wrk"
  awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} /Non-2xx/ {bad=$NF}
       END {printf "  %s req/s, p50 %s, p99 %s, non-2xx %d\n", r, p50, p99, bad}' "$out/$name.wrk" >&2
}
post_lua=$work/post.lua
cat >"$post_lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"type":"temp","value":42}'
wrk.headers["Content-Type"] = "application/json"
EOF

# The httpIn flow of crates/app/benches/workflow.rs (http_design), the same five nodes.
http_design=$(python3 - <<'EOF'
import json
def node(i, c, p): return {"id": i, "componentName": c, "data": {"nodeName": i, "parameters": p}}
def edges(ps): return [{"id": f"e{i}", "source": s, "target": t, "sourceHandle": h} for i, (s, t, h) in enumerate(ps)]
print(json.dumps({"nodes": [
    node("in", "httpIn", {"method": "POST", "url": "/bench"}),
    node("stamp", "code", {"expression": {"language": "rhai",
        "expression": "let m = msg; m.stamp = timestamp_ms(); m.kind = m[\"type\"]; m"}}),
    node("kind", "choice", {"choice": {"when": [{"id": "temp", "conditions": [
        {"expressionValue": {"key": "{{stamp.kind}}", "operator": "EQ", "value": "temp"}}]}],
        "otherwise": {"id": "other"}}}),
    node("alarm", "code", {"expression": {"language": "rhai", "expression": "#{alarm: value > 30}"}}),
    node("out", "output", {}),
], "edges": edges([("in", "stamp", None), ("stamp", "kind", None), ("kind", "alarm", "temp"), ("alarm", "out", None)])}))
EOF
)

# Per backend on the release server: /healthz and /user as a plain user with one role, then
# the httpIn flow.
serve_figures() { # backend
  local b=$1 admin plain uid flow credential answer
  curl -fs -H 'content-type: application/json' \
    -d '{"email":"bench@weir.test","nickname":"Bench","password":"bench-password-1"}' \
    "$base/api/v1/user/register" >/dev/null || true
  admin=$(token bench@weir.test)
  local auth=(-H "Authorization: Bearer $admin" -H 'content-type: application/json')
  uid=$(curl -fs "${auth[@]}" -d '{"email":"plain@weir.test","nickname":"Plain","password":"bench-password-1"}' \
    "$base/api/v1/user/members" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["data"]["user_id"]))')
  curl -fs "${auth[@]}" -d "{\"name\":\"viewers\",\"permissions\":[\"view-device\",\"view-dashboard\"],\"members\":[$uid]}" \
    "$base/api/v2/identity/roles" >/dev/null
  plain=$(token plain@weir.test)
  say "$b: GET /healthz, wrk $CONNECTIONS connections"
  wrk_to "$b-healthz" "$CONNECTIONS" "$base/healthz"
  say "$b: GET /api/v1/user as a plain user with one role, wrk $CONNECTIONS connections"
  wrk_to "$b-user" "$CONNECTIONS" -H "Authorization: Bearer $plain" "$base/api/v1/user"

  flow=$(python3 -c 'import json,sys; print(json.dumps({"name": "bench httpIn", "enabled": True, "design_data": sys.argv[1]}))' "$http_design" |
    curl -fs "${auth[@]}" -d @- "$base/api/v1/workflow/flows/design" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
  credential=$(curl -fs "${auth[@]}" -X POST "$base/api/v1/workflow/flows/$flow/http-credential" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["credential"])')
  answer=$(curl -fs -H "Authorization: Bearer $credential" -H 'content-type: application/json' \
    -d '{"type":"temp","value":42}' "$base/workflow-http-in/bench")
  [ "$answer" = '{"alarm":true}' ] || { echo "Weir's httpIn flow answered $answer" >&2; exit 1; }
  say "$b: Weir's httpIn flow, wrk 10 connections"
  wrk_to "$b-httpin" 10 -s "$post_lua" -H "Authorization: Bearer $credential" "$base/workflow-http-in/bench"
}

say "idle RSS: the release server on a fresh SQLite file"
start_weir "$work/serve.db"
sleep 2
grep -E '^(VmRSS|Threads):' "/proc/$server/status" | tee "$out/rss" >&2
serve_figures sqlite
stop_weir
fresh_db serve
start_weir "$db_url"
serve_figures postgres
stop_weir

# Node-RED, installed once into the cache folder, run with the flow kept in benches/node-red.
if [ ! -f "$node_red_dir/node_modules/node-red/package.json" ] ||
  [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$node_red_dir/node_modules/node-red/package.json")" != "$NODE_RED_VERSION" ]; then
  say "installing Node-RED $NODE_RED_VERSION into $node_red_dir"
  mkdir -p "$node_red_dir"
  npm install --prefix "$node_red_dir" --no-audit --no-fund --loglevel=error "node-red@$NODE_RED_VERSION" >&2
fi
mkdir -p "$work/node-red"
cp benches/node-red/flows.json "$work/node-red/"
NODE_RED_PORT=$NODE_RED_PORT node "$node_red_dir/node_modules/node-red/red.js" \
  -s benches/node-red/settings.js -u "$work/node-red" >"$work/node-red.log" 2>&1 &
node_red=$!
pids+=("$node_red")
answer=
for _ in $(seq 300); do
  answer=$(curl -fs -H 'content-type: application/json' -d '{"type":"temp","value":42}' \
    "http://127.0.0.1:$NODE_RED_PORT/bench" 2>/dev/null) && break
  sleep 0.1
done
[ "$answer" = '{"alarm":true}' ] || { echo "Node-RED answered '$answer':" >&2; tail "$work/node-red.log" >&2; exit 1; }
say "Node-RED $NODE_RED_VERSION, the same flow, wrk 10 connections"
wrk_to node-red 10 -s "$post_lua" "http://127.0.0.1:$NODE_RED_PORT/bench"
kill "$node_red" && wait "$node_red" 2>/dev/null || true

# The in-process benches, per backend.
for b in sqlite postgres; do
  db_url= # unset on SQLite: the bench takes a temp file (an empty URL would be another database per connection)
  [ "$b" = postgres ] && fresh_db flow
  say "$b: workflow bench"
  env WEIR_BENCH_SECS="$secs" ${db_url:+WEIR_BENCH_DATABASE_URL=$db_url} RUST_LOG=warn "$workflow_bin" --bench |
    tee "$out/$b-workflow" >&2 || echo "the workflow bench failed on $b (exit $?): its rows say so" >&2
  [ "$b" = postgres ] && fresh_db ingest
  say "$b: ingest bench"
  env WEIR_BENCH_SECS="$secs" ${db_url:+WEIR_BENCH_DATABASE_URL=$db_url} RUST_LOG=warn "$ingest_bin" --bench |
    tee "$out/$b-ingest" >&2 || echo "the ingest bench failed on $b (exit $?): its rows say so" >&2
done
echo "load average at end: $(load)" | tee "$out/load_end"

python3 - "$out" "$secs" "$NODE_RED_VERSION" <<'EOF'
import os, re, sys
out, secs, node_red = sys.argv[1], sys.argv[2], sys.argv[3]
def read(name):
    try:
        return open(os.path.join(out, name)).read()
    except OSError:
        return ""
def ms(text):  # wrk's 1.23ms, 456.00us, 1.02s
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)] if m else float("nan")
def wrk(name):
    t = read(name + ".wrk")
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", t).group(1))
    p50 = ms(re.search(r"^\s*50%\s+(\S+)", t, re.M).group(1))
    p99 = ms(re.search(r"^\s*99%\s+(\S+)", t, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", t)
    errors = re.search(r"Socket errors: (.*)", t)
    return rps, p50, p99, int(bad.group(1)) if bad else 0, errors.group(1) if errors else ""
def n(x): return f"{x:,.0f}"
def find(pattern, text):
    m = re.search(pattern, text)
    return [float(g) for g in m.groups()] if m else None
rows = []
def row(measure, weir, ref, ratio, goal, met):
    rows.append((measure, weir, ref, ratio, goal, "yes" if met else "**no**"))
for b, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
    u, h = wrk(b + "-user"), wrk(b + "-healthz")
    r = u[0] / h[0]
    row(f"`GET /api/v1/user` ÷ `GET /healthz` (plain user, one role), {name}",
        f"{n(u[0])} req/s, p50 {u[1]:.2f} ms, p99 {u[2]:.2f} ms" + (f", {u[3]} non-2xx" if u[3] else ""),
        f"{n(h[0])} req/s", f"{r:.3f}", "≥ 0.30; p99 ≤ 10 × p50",
        r >= 0.30 and u[2] <= 10 * u[1] and u[3] == 0)
for b, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
    t = read(b + "-workflow")
    loop = find(r"events \(5 nodes, \d+ flows\): (\d+) runs/s, latency value to assigned value p50 ([\d.]+) ms, p99 ([\d.]+) ms \((\d+) runs, (\d+) lost", t)
    flood = find(r"(\d+) events written in [\d.]+ s, (\d+) runs logged \((\d+) missing\), (\d+) runs/s", t)
    if not flood:
        row(f"event flow, traced runs/s, {name}", "no figure (see the log)", "—", "—", "≥ 5,000 runs/s, none lost", False)
        continue
    row(f"event flow (eventListener → choice → code → entityAssigner → output), traced runs/s, {name}",
        f"{n(flood[3])} runs/s, {n(flood[2])} of {n(flood[0])} triggers lost (flood, 4 writers)"
        + (f"; closed loop (4 drivers) {n(loop[0])} runs/s, p50 {loop[1]:.2f} ms, p99 {loop[2]:.2f} ms, {n(loop[4])} lost" if loop else ""),
        "—", "—", "≥ 5,000 runs/s, none lost", flood[3] >= 5000 and flood[2] == 0 and bool(loop) and loop[4] == 0)
nr = wrk("node-red")
for b, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
    w = wrk(b + "-httpin")
    r = w[0] / nr[0]
    row(f"httpIn five-node flow ÷ Node-RED {node_red} (10 connections), {name}",
        f"{n(w[0])} req/s, p50 {w[1]:.2f} ms, p99 {w[2]:.2f} ms" + (f", {w[3]} non-2xx" if w[3] else ""),
        f"{n(nr[0])} req/s, p50 {nr[1]:.2f} ms, p99 {nr[2]:.2f} ms" + (f", {nr[3]} non-2xx" if nr[3] else ""),
        f"{r:.1f}×", "≥ 10×", r >= 10 and w[3] == 0 and nr[3] == 0)
ingest_re = r"HTTP ingest (\d+) values/s .*?p50 ([\d.]+) ms, p99 ([\d.]+) ms\), hand-written INSERT (\d+) values/s"
pg = read("postgres-ingest")
http_pg = find(ingest_re, pg)
copy = find(r"binary COPY (\d+) values/s", pg)
if http_pg and copy:
    r = http_pg[0] / copy[0]
    row("HTTP ingest ÷ binary COPY of the same rows (PostgreSQL, 4 clients × 1,000 values)",
        f"{n(http_pg[0])} values/s, p50 {http_pg[1]:.1f} ms, p99 {http_pg[2]:.1f} ms",
        f"{n(copy[0])} values/s (INSERT {n(http_pg[3])})", f"{r:.2f}", "≥ 0.9", r >= 0.9)
else:
    row("HTTP ingest ÷ binary COPY (PostgreSQL)", "no figure (see the log)", "—", "—", "≥ 0.9", False)
lite = find(ingest_re, read("sqlite-ingest"))
if lite:
    r = lite[0] / lite[3]
    row("HTTP ingest ÷ hand-written INSERT (SQLite, 4 clients × 1,000 values)",
        f"{n(lite[0])} values/s, p50 {lite[1]:.1f} ms, p99 {lite[2]:.1f} ms",
        f"{n(lite[3])} values/s", f"{r:.2f}", "≥ 0.8, p99 ≤ 100 ms", r >= 0.8 and lite[2] <= 100)
else:
    row("HTTP ingest ÷ hand-written INSERT (SQLite)", "no figure (see the log)", "—", "—", "≥ 0.8, p99 ≤ 100 ms", False)
mqtt = find(r"MQTT ingest through Mosquitto at \S+: (\d+) values/s \((\d+) of (\d+) values committed", pg)
if mqtt and http_pg:
    r = mqtt[0] / http_pg[0]
    row("MQTT ingest through Mosquitto ÷ HTTP ingest (PostgreSQL)",
        f"{n(mqtt[0])} values/s ({n(mqtt[1])} of {n(mqtt[2])} committed)", f"{n(http_pg[0])} values/s",
        f"{r:.2f}", "≥ 0.9", r >= 0.9 and mqtt[1] == mqtt[2])
else:
    row("MQTT ingest through Mosquitto ÷ HTTP ingest (PostgreSQL)", "no figure (no broker? see the log)",
        "—", "—", "≥ 0.9", False)
rss = read("rss")
kb = find(r"VmRSS:\s*(\d+) kB", rss)
threads = find(r"Threads:\s*(\d+)", rss)
if kb:
    mb = kb[0] * 1024 / 1e6
    row("idle RSS after start (SQLite; /healthz answering + 2 s)",
        f"{mb:.1f} MB ({n(kb[0])} kB), {n(threads[0]) if threads else '?'} threads", "—", "—", "< 30 MB", mb < 30)
print()
print(f"{secs} s per figure; {read('load_start').strip()}; {read('load_end').strip()}")
print()
print("| measure | Weir | reference | ratio | goal | met |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
EOF
