#!/usr/bin/env bash
# Runs guests under QEMU and compares their serial output with expected/.
#
#   tools/guests/run-qemu.sh NAME...          run and diff (NAME "all": every one)
#   tools/guests/run-qemu.sh --update NAME... run and rewrite expected/NAME.txt
#
# NAME is a guest directory, or bench-quick (bench with iterations=4).
# migration runs with passes=20 (it stops, checks its pages and exits).
# disk gets a fresh 16 MiB raw image on a virtio-blk-pci device
# (disable-legacy=on), deleted afterwards.
# The guests are built first (tools/guests/build.sh into $GUEST_OUT, default
# /tmp/qmpd-guests). A guest passes when QEMU exits with status 1 (the guest
# wrote 0 to isa-debug-exit) and the output equals expected/NAME.txt byte for
# byte. demo never exits: it runs for DEMO_SECONDS (default 3.5) and must
# show the banner and at least three heartbeats; its "command line:" line
# (which holds the kernel's path) is normalised before comparing.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${GUEST_OUT:-/tmp/qmpd-guests}
qemu=${QEMU:-qemu-system-i386}
update=0
if [[ ${1:-} == --update ]]; then
  update=1
  shift
fi
if [[ $# -lt 1 ]]; then
  echo "usage: $0 [--update] NAME...|all" >&2
  exit 2
fi
names=("$@")
if [[ ${names[0]} == all ]]; then
  names=(bootinfo demo cpu-modes paging exceptions interrupts smc bench-quick bench disk migration)
fi

command -v "$qemu" >/dev/null || { echo "run-qemu.sh: $qemu not found" >&2; exit 2; }
"$here/build.sh" "$out" >/dev/null || exit 2

failed=0
for name in "${names[@]}"; do
  guest=$name
  args=()
  timeout_s=120
  image=
  case $name in
    bench-quick) guest=bench; args=(-append iterations=4) ;;
    migration) args=(-append passes=20) ;;
    disk)
      image=$(mktemp) && truncate -s 16M "$image" || { echo "$name: cannot create a disk image" >&2; failed=1; continue; }
      args=(-drive "file=$image,format=raw,if=none,id=d0" -device virtio-blk-pci,drive=d0,disable-legacy=on) ;;
    demo) timeout_s=${DEMO_SECONDS:-3.5} ;;
  esac
  elf="$out/$guest.elf"
  [[ -f $elf ]] || { echo "$name: no $elf" >&2; failed=1; continue; }
  got=$(mktemp)
  timeout "$timeout_s" "$qemu" -nodefaults -display none -serial stdio -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$elf" "${args[@]}" > "$got" 2>/dev/null < /dev/null
  status=$?
  expected="$here/expected/$name.txt"

  if [[ $name == demo ]]; then
    # Keep the banner and the first three heartbeats; hide the path.
    sed -i -e 's|^command line: .*|command line: (varies: the kernel path, then the arguments)|' "$got"
    awk '{ print } /^heartbeat 3$/ { exit }' "$got" > "$got.cut" && mv "$got.cut" "$got"
    want_status=124
  else
    want_status=1
  fi

  if [[ $update == 1 ]]; then
    if [[ $status -ne $want_status ]]; then
      echo "$name: QEMU exited with $status, not $want_status; expected/ left alone" >&2
      cat "$got" >&2
      failed=1
    else
      cat "$got" > "$expected"
      echo "$name: wrote $expected"
    fi
  elif [[ $status -ne $want_status ]]; then
    echo "$name: FAIL (QEMU exit status $status, want $want_status)"
    diff -u "$expected" "$got"
    failed=1
  elif ! diff -u "$expected" "$got"; then
    echo "$name: FAIL (output differs)"
    failed=1
  else
    echo "$name: ok"
  fi
  rm -f "$got" ${image:+"$image"}
done
exit $failed
