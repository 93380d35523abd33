#!/usr/bin/env bash
# Capture real engine answers into tests/models/data/ for the model decoding tests.
# Run as root with both engines up (scripts/engines-up); the files are committed, so this is
# only needed to refresh them. Usage: tests/models/capture.sh [docker|podman|all]
set -euo pipefail
data=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/data
declare -A sockets=([docker]=/var/run/docker.sock [podman]=/run/podman/podman.sock)
want=${1:-all}

api() { # socket method path [curl args...]: prints the body, pretty-printed when it is JSON
  local sock=$1 method=$2 path=$3
  shift 3
  curl -s --unix-socket "$sock" -X "$method" "$@" "http://docker/v1.41$path"
}
save() { python3 -m json.tool >"$data/$1"; }

for engine in docker podman; do
  [[ $want == all || $want == "$engine" ]] || continue
  sock=${sockets[$engine]}
  name=ls-capture-web
  api "$sock" DELETE "/containers/$name?force=1" >/dev/null
  api "$sock" POST "/containers/create?name=$name" -H 'Content-Type: application/json' \
    -d @"$data/container-create-request.json" | save "container-create-$engine.json"
  api "$sock" POST "/containers/$name/start" >/dev/null
  sleep 4 # a few health checks (Interval 1 s)
  api "$sock" GET "/containers/$name/json" | save "container-inspect-running-$engine.json"
  api "$sock" GET '/containers/json?filters=%7B%22label%22%3A%5B%22ls-test%3Dcapture%22%5D%7D' |
    save "container-list-$engine.json"
  api "$sock" POST "/containers/$name/stop?t=0" >/dev/null
  api "$sock" POST "/containers/$name/wait" | save "container-wait-$engine.json"
  api "$sock" GET "/containers/$name/json" | save "container-inspect-exited-$engine.json"
  api "$sock" POST "/containers/create?name=$name" -H 'Content-Type: application/json' \
    -d '{"Image":"busybox:local"}' | save "error-name-in-use-$engine.json"
  api "$sock" DELETE "/containers/$name?force=1" >/dev/null
  api "$sock" GET "/containers/$name/json" | save "error-no-such-container-$engine.json"
  api "$sock" GET /images/busybox:local/json | save "image-inspect-$engine.json"
  api "$sock" GET /images/ls-capture-missing:none/json | save "error-no-such-image-$engine.json"
  api "$sock" GET /version | save "version-$engine.json"
  # a pull whose registry (the loopback discard port) cannot be reached
  api "$sock" POST '/images/create?fromImage=127.0.0.1%3A9%2Fls%2Fmissing&tag=none' |
    save "image-pull-unreachable-$engine.json"
done
