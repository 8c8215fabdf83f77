#!/usr/bin/env bash
# Run the terminal browser in tmux on the example store and print what a person would see.
#   scripts/tui_capture.sh [STORE] [KEYS...]
# STORE defaults to a fresh store made by examples/sentiment_pipeline.py; each KEYS argument is
# sent with tmux send-keys (e.g. Enter, Escape, l, Down), with a pause after each, and the
# screen is printed after every key.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
store=${1:-}
shift || true
if [ -z "$store" ]; then
  store=$(mktemp -d)/store
  ARTIFACTFS_CACHE_DIR=$(mktemp -d) "$py" "$here/examples/sentiment_pipeline.py" "$store" >/dev/null
fi
keys=("$@")
[ ${#keys[@]} -gt 0 ] || keys=(Enter Enter Enter l)
session=afs-tui-$$
tmux new-session -d -s "$session" -x 110 -y 32 "cd '$here' && '$py' -m tui '$store'"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
sleep 2.5
echo "=== start"; tmux capture-pane -p -t "$session"
for k in "${keys[@]}"; do
  tmux send-keys -t "$session" "$k"
  sleep 1.5
  echo "=== after $k"; tmux capture-pane -p -t "$session"
done
