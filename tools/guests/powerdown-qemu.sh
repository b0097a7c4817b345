#!/usr/bin/env bash
# Presses the demo guest's ACPI power button over QMP and checks that it
# powers off cleanly.
#
#   tools/guests/powerdown-qemu.sh
#
# Builds demo (tools/guests/build.sh into $GUEST_OUT, default /tmp/qmpd-guests),
# starts it under $QEMU (default qemu-system-i386) with a QMP socket, waits for
# "heartbeat 2" on the serial port, sends qmp_capabilities and
# system_powerdown, and passes when:
#   - QEMU exits on its own with status 0 (not killed by this script);
#   - QMP showed a POWERDOWN event and then SHUTDOWN with
#     {"guest": true, "reason": "guest-shutdown"};
#   - the serial output is the banner of expected/demo.txt, "heartbeat 1" ..
#     "heartbeat N" (N >= 2) and, last, "power button: shutting down".
# Exits 0 on success, 1 on failure, 2 on a setup problem. Needs socat.
# POWERDOWN_TIMEOUT (default 20) bounds each wait, in seconds.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${GUEST_OUT:-/tmp/qmpd-guests}
qemu=${QEMU:-qemu-system-i386}
limit=${POWERDOWN_TIMEOUT:-20}

command -v "$qemu" >/dev/null || { echo "powerdown-qemu.sh: $qemu not found" >&2; exit 2; }
command -v socat >/dev/null || { echo "powerdown-qemu.sh: socat not found" >&2; exit 2; }
"$here/build.sh" "$out" demo >/dev/null || exit 2

work=$(mktemp -d /tmp/qmpd-powerdown.XXXXXX)
sock=$work/qmp.sock
serial=$work/serial.txt
qmplog=$work/qmp.txt
qpid=
cleanup() {
  [[ -n $qpid ]] && kill "$qpid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "powerdown: FAIL ($*)"
  echo "--- serial output:"; cat "$serial" 2>/dev/null
  echo "--- QMP:"; cat "$qmplog" 2>/dev/null
  echo "--- QEMU stderr:"; cat "$work/stderr.txt" 2>/dev/null
  exit 1
}

: > "$qmplog"
: > "$serial"     # exists before the first grep below, whoever wins the race
"$qemu" -nodefaults -display none -serial stdio -qmp "unix:$sock,server=on,wait=off" \
  -kernel "$out/demo.elf" > "$serial" 2> "$work/stderr.txt" < /dev/null &
qpid=$!

# Wait for two heartbeats (the guest has wired its power button by then).
deadline=$((SECONDS + limit))
until grep -qx 'heartbeat 2' "$serial"; do
  kill -0 "$qpid" 2>/dev/null || { wait "$qpid"; qpid=; fail "QEMU exited before heartbeat 2"; }
  ((SECONDS < deadline)) || fail "no heartbeat 2 within ${limit}s"
  sleep 0.1
done

# QMP: greeting, qmp_capabilities, system_powerdown, then every line until
# QEMU closes the connection by exiting.
coproc QMP { exec socat - "UNIX-CONNECT:$sock"; }
exec {qin}<&"${QMP[0]}" {qout}>&"${QMP[1]}"
qmp_read() { # wait for a line matching $1, logging everything
  local line
  while IFS= read -r -t "$limit" line <&"$qin"; do
    printf '%s\n' "$line" >> "$qmplog"
    [[ $line == *$1* ]] && return 0
  done
  return 1
}
qmp_read '"QMP"' || fail "no QMP greeting"
printf '%s\n' '{"execute":"qmp_capabilities"}' >&"$qout"
qmp_read '"return"' || fail "qmp_capabilities got no reply"
printf '%s\n' '{"execute":"system_powerdown"}' >&"$qout"
qmp_read '"return"' || fail "system_powerdown got no reply"
qmp_read '"event": *"SHUTDOWN"' || true     # read on to EOF or the time limit
while IFS= read -r -t 2 line <&"$qin"; do printf '%s\n' "$line" >> "$qmplog"; done
exec {qout}>&- {qin}<&-

# QEMU must be gone by itself, with status 0.
deadline=$((SECONDS + limit))
while kill -0 "$qpid" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "QEMU still running ${limit}s after system_powerdown"
  sleep 0.1
done
wait "$qpid"
status=$?
qpid=
[[ $status -eq 0 ]] || fail "QEMU exit status $status, want 0"

compact=$(tr -d ' \t' < "$qmplog")
grep -q '"event":"POWERDOWN"' <<< "$compact" || fail "no POWERDOWN event"
shutdown=$(grep '"event":"SHUTDOWN"' <<< "$compact")
[[ -n $shutdown ]] || fail "no SHUTDOWN event"
[[ $shutdown == *'"guest":true'* && $shutdown == *'"reason":"guest-shutdown"'* ]] ||
  fail "SHUTDOWN is not {guest: true, reason: guest-shutdown}: $shutdown"

# Serial: expected banner (4 lines), heartbeats 1..N with N >= 2, the button line last.
banner=$(sed -e 's|^command line: .*|command line: (varies: the kernel path, then the arguments)|' "$serial" | head -n 4)
[[ $banner == "$(head -n 4 "$here/expected/demo.txt")" ]] || fail "banner differs from expected/demo.txt"
tail -n +5 "$serial" | awk '
  $0 == "heartbeat " NR { beats = NR; next }
  NR == beats + 1 && $0 == "power button: shutting down" { done = 1; next }
  { bad = 1 }
  END { exit !(done && !bad && beats >= 2) }' ||
  fail "serial output does not end with heartbeats 1..N (N >= 2) and 'power button: shutting down'"

n=$(grep -c '^heartbeat ' "$serial")
echo "powerdown: ok ($n heartbeats, POWERDOWN, SHUTDOWN guest-shutdown, QEMU exit 0)"
