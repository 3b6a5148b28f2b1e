#!/bin/sh
# The host side of playbooks/workload.yml, in one POSIX shell run: Ansible ships this kit with
# rsync and starts it with `raw`, so deploying needs no Python on the host. (On a QEMU lab host,
# under software emulation, every Python module costs ~7 s: one run here replaces ~25 of them.)
#
#   workload-host.sh --workload web|kv --name N --port P --config-b64 B64 [--replace 0|1]
#                    [--kv-keys K] [--kv-value-bytes B] [--wait S]
#                    [--service-host ADDR] [--cgroups-path PATH] [--host NAME]
#
# Layout (as before): bundle /var/lib/ferry/containers/<name>/ (config.json, rootfs/), runc --root
# /run/ferry/runc, pid file /run/ferry/<name>.pid, runc log /run/ferry/<name>.runc.log.
# A container that already runs (or is paused) is left alone unless --replace 1.
# Output: progress lines, then one last line `FERRY_RESULT {json}` (also on failure, with "error").
# Exit: 0 ok, 1 failed (the JSON's "error" says why).
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C

LIBEXEC=$(cd "$(dirname "$0")" && pwd)
CONTAINERS=/var/lib/ferry/containers
RUN_DIR=/run/ferry
RUNC_ROOT=/run/ferry/runc

workload='' name='' port='' config_b64='' replace=0 wait_s=60 service_host=127.0.0.1
cgroups_path='' host_name=$(hostname) kv_keys=0 kv_value_bytes=1024
changed=false status=absent kept=false

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\n\t' '  ')"; }
result() { # result KEY=JSONVALUE ...
  out="\"changed\": $changed, \"kept\": $kept, \"status\": $(json_str "$status")"
  for kv in "$@"; do out="$out, $(json_str "${kv%%=*}"): ${kv#*=}"; done
  echo "FERRY_RESULT {$out}"
}
fail() { echo "workload-host: $*"; result "error=$(json_str "$*")"; exit 1; }
runc_() { runc --root "$RUNC_ROOT" "$@"; }
runc_status() { runc_ state "$name" 2>/dev/null | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p'; }
runc_pid() { runc_ state "$name" 2>/dev/null | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p'; }
log_tail() { [ -f "$RUN_DIR/$name.runc.log" ] && tail -n 20 "$RUN_DIR/$name.runc.log" | tr '\n' ' '; }
# True when something listens on the port (on any address: the container shares the host's netns).
port_busy() { [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; }
# (busybox 1.35's wget crashes with its own -T: timeout(1) bounds it instead.)
http_get() { timeout 5 busybox wget -q -O - "http://$service_host:$port$1" 2>/dev/null; }

while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || fail "option $1 needs a value"
  case $1 in
    --workload) workload=$2 ;;
    --name) name=$2 ;;
    --port) port=$2 ;;
    --config-b64) config_b64=$2 ;;
    --replace) replace=$2 ;;
    --kv-keys) kv_keys=$2 ;;
    --kv-value-bytes) kv_value_bytes=$2 ;;
    --wait) wait_s=$2 ;;
    --service-host) service_host=$2 ;;
    --cgroups-path) cgroups_path=$2 ;;
    --host) host_name=$2 ;;
    *) fail "unknown option $1" ;;
  esac
  shift 2
done

# The playbook validated these; the host checks again, as the values reach paths and commands.
case $workload in web | kv) ;; *) fail "workload must be web or kv (got '$workload')" ;; esac
echo "$name" | grep -Eqx '[a-z][a-z0-9-]{0,30}' || fail "bad container name '$name'"
echo "$port" | grep -Eqx '[0-9]{1,5}' && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || fail "bad port '$port'"
for n in "$wait_s" "$kv_keys" "$kv_value_bytes"; do echo "$n" | grep -Eqx '[0-9]+' || fail "bad number '$n'"; done
[ -n "$config_b64" ] || fail "--config-b64 is required"
[ -n "$cgroups_path" ] || cgroups_path=/ferry/$host_name/$name
[ -x "$LIBEXEC/detached" ] || fail "$LIBEXEC/detached is missing on $host_name: run playbooks/provision.yml first."
bundle=$CONTAINERS/$name
pid_file=$RUN_DIR/$name.pid
runc_log=$RUN_DIR/$name.runc.log

status=$(runc_status); [ -n "$status" ] || status=absent
if [ "$replace" != 1 ] && { [ "$status" = running ] || [ "$status" = paused ]; }; then
  kept=true
  echo "$name is already $status on $host_name: left alone (its variables are not re-applied; pass -e replace=true to recreate it)."
  # A paused container is probably mid-migration: touch nothing more.
  [ "$status" = paused ] && { result "pid=$(runc_pid)"; exit 0; }
else
  # Remove the old container and any debris of a failed restore (a criu-root mount, stale state).
  if [ "$status" != absent ]; then
    runc_ kill "$name" KILL >/dev/null 2>&1 || true
    runc_ delete --force "$name" || fail "cannot delete the old container $name"
    echo "deleted $name"; changed=true
  fi
  if [ -d "$RUNC_ROOT/$name" ]; then
    if mountpoint -q "$RUNC_ROOT/$name/criu-root" 2>/dev/null; then
      umount "$RUNC_ROOT/$name/criu-root" 2>/dev/null || umount -l "$RUNC_ROOT/$name/criu-root"
    fi
    rm -rf --one-file-system "${RUNC_ROOT:?}/$name"
    echo "removed stale state of $name"; changed=true
  fi
  rm -f "$pid_file"

  i=0
  while port_busy; do
    i=$((i + 1))
    [ $i -lt 50 ] || fail "port $port on $service_host is already in use (by another container or service): pick another -e port"
    sleep 0.2
  done

  if [ "$replace" = 1 ] && [ "$status" != absent ] && [ -d "$bundle" ]; then
    rm -rf --one-file-system "$bundle"
  fi
  install -d -m 755 "$RUN_DIR" "$bundle"
  install -d -m 700 "$RUNC_ROOT"

  if [ "$workload" = web ]; then
    out=$("$LIBEXEC/mkrootfs.sh" web "$bundle/rootfs" --ballast "$LIBEXEC/ferry-ballast" 2>&1) || fail "mkrootfs failed: $out"
  else
    out=$("$LIBEXEC/mkrootfs.sh" kv "$bundle/rootfs" 2>&1) || fail "mkrootfs failed: $out"
  fi
  echo "$out" | grep -q 'FERRY_ROOTFS_CHANGED=1' && changed=true
  echo "$config_b64" | base64 -d >"$bundle/config.json.new" || fail "cannot decode config.json"
  if ! cmp -s "$bundle/config.json.new" "$bundle/config.json"; then changed=true; fi
  mv -f "$bundle/config.json.new" "$bundle/config.json"

  (cd "$bundle" && "$LIBEXEC/detached" runc --root "$RUNC_ROOT" --log "$runc_log" run -d --pid-file "$pid_file" --bundle "$bundle" "$name")
  rc=$?
  changed=true
  status=$(runc_status); [ -n "$status" ] || status=absent
  if [ $rc -ne 0 ] || [ "$status" != running ]; then
    hint=''
    [ "$workload" = web ] && hint=" The web container stops at once if httpd cannot bind port $port."
    fail "$name did not start on $host_name (runc run rc=$rc, status $status).$hint $runc_log: $(log_tail)"
  fi
fi

# Wait until the service is ready (and fail fast if the container stops).
deadline=$(( $(date +%s) + wait_s ))
while :; do
  status=$(runc_status); [ -n "$status" ] || status=gone
  if [ "$status" != running ]; then
    hint=''
    [ "$workload" = web ] && hint=" Is port $port taken (httpd could not bind)?"
    fail "container $name is $status ($workload on $host_name, port $port).$hint $runc_log: $(log_tail)"
  fi
  if [ "$workload" = web ]; then
    # ferry-ballast removes a stale counter at start and writes it once its ballast is filled.
    [ -s "$bundle/rootfs/www/counter" ] && break
  else
    [ "$(redis-cli -h "$service_host" -p "$port" PING 2>/dev/null)" = PONG ] && break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || fail "$name is running but not ready after $wait_s s ($workload on $host_name, port $port). $runc_log: $(log_tail)"
  sleep 0.2
done

pid=$(runc_pid)
grep -Eq "^([0-9]+:freezer:|0::)$cgroups_path\$" "/proc/$pid/cgroup" 2>/dev/null \
  || fail "$name (pid $pid) is not in cgroup $cgroups_path: $(tr '\n' ' ' <"/proc/$pid/cgroup" 2>/dev/null)"

if [ "$workload" = web ]; then
  counter='' i=0
  while [ $i -lt 10 ]; do
    counter=$(http_get /counter | tr -d '[:space:]')
    echo "$counter" | grep -Eqx '[0-9]+' && break
    i=$((i + 1)); sleep 0.5
  done
  echo "$counter" | grep -Eqx '[0-9]+' || fail "GET http://$service_host:$port/counter does not answer a number (got '$counter')"
  want=$(tr -d '[:space:]' <"$bundle/rootfs/www/instance")
  got=$(http_get /instance | tr -d '[:space:]')
  [ "$got" = "$want" ] || fail "port $port on $service_host answers instance '$got', not $name's '$want': another container or service holds the port"
  echo "web container $name $([ "$kept" = true ] && echo kept || echo started) on $host_name: pid $pid, cgroup $cgroups_path, $service_host:$port, counter $counter, instance $want"
  result "pid=$pid" "counter=$counter" "instance=$(json_str "$want")"
else
  if [ "$kept" = false ]; then
    # Load the keys ferry:N, then ferry:marker (kv-fill.py writes Redis protocol for --pipe).
    load=$(python3 "$LIBEXEC/kv-fill.py" --keys "$kv_keys" --value-bytes "$kv_value_bytes" --name "$name" \
      | redis-cli -h "$service_host" -p "$port" --pipe 2>&1)
    echo "$load" | grep -q "errors: 0, replies: $((kv_keys + 1))" || fail "loading $kv_keys keys into $name failed: $load"
  fi
  dbsize=$(redis-cli -h "$service_host" -p "$port" DBSIZE 2>/dev/null)
  marker=$(redis-cli -h "$service_host" -p "$port" GET ferry:marker 2>/dev/null)
  case $marker in name=*) ;; *) fail "$name: no ferry:marker key (got '$marker')" ;; esac
  expected=$(( $(echo "$marker" | sed -n 's/.*keys=\([0-9]*\).*/\1/p') + 1 ))
  if [ "$kept" = false ] && [ "$expected" -ne $((kv_keys + 1)) ]; then
    fail "$name: the marker counts $((expected - 1)) keys, $kv_keys were loaded (marker: $marker)"
  fi
  if [ "$dbsize" -ne "$expected" ] && ! { [ "$kept" = true ] && [ "$dbsize" -gt "$expected" ]; }; then
    fail "$name: DBSIZE $dbsize, expected $expected (marker: $marker)"
  fi
  echo "kv container $name $([ "$kept" = true ] && echo kept || echo started) on $host_name: pid $pid, cgroup $cgroups_path, $service_host:$port, $dbsize keys, marker $marker"
  result "pid=$pid" "keys=$dbsize" "marker=$(json_str "$marker")"
fi
