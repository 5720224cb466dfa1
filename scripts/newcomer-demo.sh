#!/usr/bin/env bash
# The newcomer's path, run by CI: the README's demo command exactly as written (`make demo`,
# default data directory, in this checkout), then what reception does first — sign in, find
# the card reader, tap a demo resident's venue card and read it. With a command after the
# arguments (`scripts/newcomer-demo.sh make test`), that command then runs while the demo box
# is still up, and its exit status is the script's. The box is stopped at the end; its
# output is printed when a step failed.
set -euo pipefail
cd "$(dirname "$0")/.."

log="$(mktemp)"
cookies="$(mktemp)"
setsid make demo >"$log" 2>&1 &
demo=$!
stop() {
    kill -TERM -- "-$demo" 2>/dev/null || true
    wait "$demo" 2>/dev/null || true
    rm -f "$cookies"
}
trap stop EXIT
fail() {
    echo "newcomer demo: $*" >&2
    echo "---- make demo printed:" >&2
    cat "$log" >&2
    exit 1
}

# Installing and building may take a while on a fresh machine.
for _ in $(seq 1 1800); do
    grep -q "ready: https://" "$log" && break
    kill -0 "$demo" 2>/dev/null || fail "make demo exited before the box was ready"
    sleep 1
done
url="$(grep -o 'ready: https://[^ ]*' "$log" | head -n1 | sed -e 's/^ready: //' -e 's#/$##')"
[ -n "$url" ] || fail "no box within 30 minutes"
ca="data/demo/pki/ca.crt"
[ -f "$ca" ] || fail "no demo CA at $ca"
api() { curl -sS --fail-with-body --max-time 20 --cacert "$ca" -b "$cookies" -c "$cookies" "$@"; }

api -H 'content-type: application/json' -d '{"staff_id":"R001","pin":"1111"}' "$url/api/login" >/dev/null \
    || fail "reception could not sign in"
readers=""
for _ in $(seq 1 30); do
    readers="$(api "$url/api/card/readers")" || fail "no answer from /api/card/readers"
    case "$readers" in *'"name"'*) break ;; esac
    sleep 1
done
case "$readers" in *'"name"'*) ;; *) fail "the demo box has no card reader: $readers" ;; esac
api -H 'content-type: application/json' -d '{"resident_id":"0001000100","card":"venue"}' \
    "$url/api/demo/tap" >/dev/null || fail "the demo tap was refused"
card=""
for _ in $(seq 1 30); do
    if card="$(api -H 'content-type: application/json' -d '{}' "$url/api/card/read")"; then break; fi
    sleep 1
done
case "$card" in *'"kind":"contactless"'*) ;; *) fail "the tapped card did not read: $card" ;; esac
echo "newcomer demo: $url — reader found, venue card read: $card"

if [ "$#" -gt 0 ]; then
    echo "newcomer demo: running '$*' beside the demo box"
    "$@"
fi
