#!/usr/bin/env bash
# Capture real engine answers into tests/models/data/ for the model decoding tests.
# Run as root with the engines up (scripts/engines-up; Docker 28 from /work/shared/tools/docker28-up);
# the files are committed, so this is only needed to refresh them. Each engine is asked at the API
# version this client uses with it: 1.41 on Docker 20.10 and Podman 4.3, 1.51 on Docker 28.5.
# Usage: tests/models/capture.sh [docker|podman|docker28|all] [basic|full|all]
set -euo pipefail
data=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/data
declare -A sockets=([docker]=/var/run/docker.sock [podman]=/run/podman/podman.sock [docker28]=/run/docker28.sock)
declare -A versions=([docker]=1.41 [podman]=1.41 [docker28]=1.51)
want=${1:-all}
sets=${2:-all}

api() { # socket method path [curl args...]: prints the body
  local sock=$1 method=$2 path=$3
  shift 3
  curl -s --unix-socket "$sock" -X "$method" "$@" "http://docker/v$version$path"
}
save() { python3 -m json.tool >"$data/$1"; }
# The X-Docker-Container-Path-Stat header of a HEAD /archive, decoded (base64 JSON).
path_stat() {
  api "$sock" HEAD "/containers/$1/archive?path=$2" -I | tr -d '\r' |
    sed -n 's/^[Xx]-[Dd]ocker-[Cc]ontainer-[Pp]ath-[Ss]tat: //p' | base64 -d
}

basic() {
  local name=ls-capture-web
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
}

# A container using most of HostConfig, and the answers of the other areas around it.
full() {
  local name=ls-t-capture-full since
  api "$sock" DELETE "/containers/$name?force=1" >/dev/null
  api "$sock" DELETE "/volumes/ls-t-capture-vol" >/dev/null
  api "$sock" POST /volumes/create -H 'Content-Type: application/json' \
    -d '{"Name":"ls-t-capture-vol","Labels":{"ls-test":"capture-full"}}' | save "volume-create-$engine.json"
  since=$(date +%s)
  api "$sock" POST "/containers/create?name=$name" -H 'Content-Type: application/json' \
    -d @"$data/container-create-full-request.json" | save "container-create-full-$engine.json"
  api "$sock" POST "/containers/$name/start" >/dev/null
  sleep 3
  api "$sock" GET "/containers/$name/json" | save "container-inspect-full-$engine.json"
  api "$sock" GET '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22ls-test%3Dcapture-full%22%5D%7D' |
    save "container-list-full-$engine.json"
  local exec_id
  exec_id=$(api "$sock" POST "/containers/$name/exec" -H 'Content-Type: application/json' \
    -d '{"Cmd":["true"],"AttachStdout":true}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
  api "$sock" GET "/exec/$exec_id/json" | save "exec-inspect-created-$engine.json"
  api "$sock" POST "/exec/$exec_id/start" -H 'Content-Type: application/json' -d '{"Detach":false}' >/dev/null
  sleep 1
  api "$sock" GET "/exec/$exec_id/json" | save "exec-inspect-done-$engine.json"
  for what in dir link file; do
    path_stat "$name" "/tmp/$what" | save "archive-stat-$what-$engine.json"
  done
  api "$sock" GET "/volumes/ls-t-capture-vol" | save "volume-inspect-$engine.json"
  api "$sock" GET '/volumes?filters=%7B%22label%22%3A%5B%22ls-test%3Dcapture-full%22%5D%7D' |
    save "volume-list-$engine.json"
  local network=bridge
  [[ $engine == podman ]] && network=podman
  api "$sock" GET "/networks/$network" | save "network-inspect-$engine.json"
  api "$sock" POST "/containers/$name/stop?t=1" >/dev/null
  sleep 1
  api "$sock" GET "/events?since=$since&until=$(date +%s)&filters=%7B%22container%22%3A%5B%22$name%22%5D%7D" |
    python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in sys.stdin if l.strip()]))' |
    save "events-$engine.json"
  api "$sock" DELETE "/containers/$name?force=1" >/dev/null
  api "$sock" DELETE "/volumes/ls-t-capture-vol" >/dev/null
}

for engine in docker podman docker28; do
  [[ $want == all || $want == "$engine" ]] || continue
  sock=${sockets[$engine]}
  version=${versions[$engine]}
  [[ $sets == all || $sets == basic ]] && basic
  [[ $sets == all || $sets == full ]] && full
done
