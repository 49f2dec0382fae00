#!/bin/sh
# responder.sh: a fake model for trying `alc run --responder` without an LLM.
#
#   alc run examples/hello.lua --responder examples/responder.sh
#   alc run examples/summarize.lua --ctx-file examples/summarize.ctx.json \
#       --responder examples/responder.sh --parallel 4
#
# alc runs the command once per prompt: the prompt arrives on stdin, and ALC_SYSTEM,
# ALC_MAX_TOKENS and ALC_QUERY_ID describe it. Whatever the command prints on stdout is the
# answer; a non-zero exit status is a failure (alc retries once). A real model plugs in the
# same way: --responder 'llm -m gpt-4o', 'ollama run llama3' or 'claude -p'.
#
# This one fakes three skills, after an optional delay of FAKE_MODEL_DELAY seconds:
# greetings, merging a "- " list into one line, and otherwise quoting the first sentence of
# the last non-empty line of the prompt.
set -eu
prompt=$(cat)
if [ -n "${FAKE_MODEL_DELAY:-}" ]; then sleep "$FAKE_MODEL_DELAY"; fi
case "$prompt" in
*"greeting for "*)
    name=$(printf '%s\n' "$prompt" | sed -n 's/.*greeting for \([^.]*\)\..*/\1/p' | head -n 1)
    printf 'Hello, %s! (a fake model says hi)\n' "$name" ;;
Merge*)
    printf '%s\n' "$prompt" | sed -n 's/^- //p' | tr '\n' ' ' | sed 's/ *$//'
    echo ;;
*)
    last=$(printf '%s\n' "$prompt" | awk 'NF { line = $0 } END { print line }')
    printf '%s\n' "$last" | sed -e 's/^[-* ]*//' -e 's/\([.!?]\).*/\1/' ;;
esac
