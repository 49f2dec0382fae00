#!/bin/sh
# tests/transcripts/replay_all.sh ALC_BIN DIR — the `transcripts` e2e test (TAP on stdout).
#
# One TAP line per DIR/*.jsonl: `ALC_BIN replay FILE` must exit 0 (the live server's replies
# match the recording). A last check records a short conversation with `ALC_BIN --record` and
# replays that recording, so that the recorder and the replayer keep agreeing on the format.
# A failure prints the replay's diff as TAP comments.
alc="$1"
dir="$2"
if [ -z "$alc" ] || [ -z "$dir" ]; then
    echo "usage: $0 ALC_BIN DIR" >&2
    exit 2
fi
set -- "$dir"/*.jsonl
if [ ! -e "$1" ]; then
    echo "1..0 # no transcripts in $dir"
    exit 1
fi
echo "1..$(($# + 1))"
i=0
failed=0
for f in "$@"; do
    i=$((i + 1))
    name=$(basename "$f")
    if out=$("$alc" replay "$f" 2>&1); then
        echo "ok $i - $name"
    else
        echo "not ok $i - $name"
        printf '%s\n' "$out" | sed 's/^/# /'
        failed=1
    fi
done

# record-then-replay: only requests whose replies do not depend on timing; the outer
# environment's ALC_* settings must not reach the recording server (replay drops them too)
for v in $(env | sed -n 's/^\(ALC_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
i=$((i + 1))
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alc-transcripts-XXXXXX") || exit 1
rec="$tmp/recorded.jsonl"
{
    echo '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"replay_all","version":"1"}}}'
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"alc_run","arguments":{"code":"return {sum = 1 + 2}"}}}'
    echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"alc_info","arguments":{}}}'
    echo 'not json'
    echo '{"jsonrpc":"2.0","id":"last","method":"ping"}'
} | ALC_HOME="$tmp/home" "$alc" --record "$rec" >"$tmp/stdout" 2>"$tmp/stderr"
mode=$(ls -l "$rec" 2>/dev/null | cut -c1-10)
if [ "$mode" != "-rw-------" ]; then
    echo "not ok $i - record-then-replay (recording missing or not mode 0600: '$mode')"
    sed 's/^/# /' "$tmp/stderr"
    failed=1
elif ! head -n 1 "$rec" | grep -q '^{"dir":"start","alc_home":'; then
    echo "not ok $i - record-then-replay (no start record)"
    failed=1
elif [ "$(grep -c '^{"dir":"out"' "$rec")" != "$(wc -l <"$tmp/stdout" | tr -d ' ')" ]; then
    echo "not ok $i - record-then-replay (recorded out lines differ from what was served)"
    failed=1
elif out=$("$alc" replay "$rec" 2>&1); then
    echo "ok $i - record-then-replay"
else
    echo "not ok $i - record-then-replay"
    printf '%s\n' "$out" | sed 's/^/# /'
    failed=1
fi
rm -rf "$tmp"
exit $failed
