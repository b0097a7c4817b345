#!/usr/bin/env bash
# PCI Express native hot-plug of a virtio-blk disk into a pcie-root-port,
# driven over QMP, with the hotplug guest servicing the slot.
#
#   tools/guests/hotplug-qemu.sh [SCENARIO]
#
# SCENARIO (default basic):
#   basic   device_add, then device_del: the guest reads the disk, powers
#           the slot off on the unplug request; QEMU sends DEVICE_DELETED
#           for the virtio-backend child and for the device
#   refuse  the same with refuse=1: the guest refuses the unplug (power
#           indicator back on, slot stays powered); no DEVICE_DELETED, and
#           on qmpd one DEVICE_UNPLUG_GUEST_ERROR (QEMU 7.2 sends none)
#   cycle   basic twice in a row (same id, same slot); the disk is a
#           -blockdev node d0 here, since a -drive if=none is deleted
#           together with the device that used it
#
# Steps: builds disk and hotplug (tools/guests/build.sh into $GUEST_OUT,
# default /tmp/qmpd-guests); writes a fresh 16 MiB raw image with the disk
# guest (mode=write start=0 sectors=64 seed=5, on pci.0); starts the hotplug
# guest with a pcie-root-port rp1, the image as drive d0 (no device) and a
# QMP socket; then device_add {virtio-blk-pci, id vd0, drive d0, bus rp1} /
# device_del {id vd0} as the scenario says, each once the guest has printed
# what the previous step should produce. Passes when QEMU exits with status 1
# (the guest's PASS), the serial output equals expected/hotplug[-SCENARIO].txt
# and the QMP events are the ones listed above. Prints every QMP event with
# its time relative to the command that caused it, and the delays from the
# device_add reply to the guest's "inserted" line and from device_del to each
# DEVICE_DELETED.
#
# Environment:
#   QEMU=path        the binary (default qemu-system-i386); qmpd takes the
#                    same options
#   MACHINE=pc|q35   (default pc)
#   HOTPLUG_RUNS=N   repeat the scenario N times and print medians (default 1)
#   HOTPLUG_TIMEOUT  seconds for each wait (default 30)
#   HOTPLUG_GLOBAL   overrides the -global that turns the chipset's ACPI PCI
#                    hot-plug off for bridges (see README.md): without it QEMU
#                    7.2 gives the root port's bus to ACPI hot-plug and the
#                    slot never reports anything; "none" passes nothing
# Exits 0 on success, 1 on failure, 2 on a setup problem. Needs python3.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${GUEST_OUT:-/tmp/qmpd-guests}
qemu=${QEMU:-qemu-system-i386}
machine=${MACHINE:-pc}
scenario=${1:-basic}
runs=${HOTPLUG_RUNS:-1}
limit=${HOTPLUG_TIMEOUT:-30}

case $scenario in
  basic) expected=$here/expected/hotplug.txt ;;
  refuse | cycle) expected=$here/expected/hotplug-$scenario.txt ;;
  *) echo "usage: $0 [basic|refuse|cycle]" >&2; exit 2 ;;
esac
case $machine in
  pc) global=PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off ;;
  q35) global=ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off ;;
  *) echo "hotplug-qemu.sh: MACHINE must be pc or q35" >&2; exit 2 ;;
esac
global=${HOTPLUG_GLOBAL:-$global}
[[ $global == none ]] && global=

command -v "$qemu" >/dev/null || { echo "hotplug-qemu.sh: $qemu not found" >&2; exit 2; }
command -v python3 >/dev/null || { echo "hotplug-qemu.sh: python3 not found" >&2; exit 2; }
"$here/build.sh" "$out" disk hotplug >/dev/null || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/qmpd-hotplug.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The disk: the disk guest's pattern for seed 5 in sectors 0-63.
truncate -s 16M "$work/disk.raw" || exit 2
timeout "$limit" "$qemu" -M "$machine" -nodefaults -display none -serial "file:$work/write.txt" -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
  -drive "file=$work/disk.raw,format=raw,if=none,id=d0" -device virtio-blk-pci,drive=d0,disable-legacy=on \
  -kernel "$out/disk.elf" -append "mode=write start=0 sectors=64 seed=5" < /dev/null > /dev/null 2>&1
status=$?
if [[ $status -ne 1 ]] || ! grep -qx PASS "$work/write.txt"; then
  echo "hotplug: cannot write the disk image (disk guest: QEMU exit status $status)"
  cat "$work/write.txt" 2>/dev/null
  exit 2
fi

python3 - "$qemu" "$machine" "$global" "$scenario" "$runs" "$limit" "$out/hotplug.elf" "$work" "$expected" <<'PY'
import json, os, socket, statistics, subprocess, sys, time

qemu, machine, global_opt, scenario, runs, limit, elf, work, expected = sys.argv[1:]
runs, limit = int(runs), float(limit)

ADD = {"driver": "virtio-blk-pci", "id": "vd0", "drive": "d0", "bus": "rp1"}
DEL = {"id": "vd0"}
args = {"basic": "events=2 start=0 sectors=64 seed=5 linger=1000",
        "refuse": "events=2 start=0 sectors=64 seed=5 refuse=1 linger=1000",
        "cycle": "events=4 start=0 sectors=64 seed=5 linger=1000"}[scenario]
# What each step waits for on the serial port after its command.
steps = {"basic": [("add", "slot 0: data matches the pattern for seed 5"), ("del", "slot 0: empty")],
         "refuse": [("add", "slot 0: data matches the pattern for seed 5"), ("del", "slot 0: unplug refused")],
         "cycle": [("add", "slot 0: data matches the pattern for seed 5"), ("del", "slot 0: empty")] * 2}[scenario]
want_deleted = {"basic": 1, "refuse": 0, "cycle": 2}[scenario]


class Failure(Exception):
    pass


class Run:
    def __init__(self, index):
        self.dir = os.path.join(work, "run%d" % index)
        os.mkdir(self.dir)
        self.serial = os.path.join(self.dir, "serial.txt")
        self.sock = os.path.join(self.dir, "qmp.sock")
        self.events = []        # (time, message)
        self.waited = {}        # serial line -> how many times waited for
        self.log = []           # everything QMP said
        self.buf = b""
        cmd = [qemu, "-M", machine, "-nodefaults", "-display", "none", "-serial", "file:" + self.serial,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if global_opt:
            cmd += ["-global", global_opt]
        if scenario == "cycle":
            disk = ["-blockdev", "driver=file,filename=%s/disk.raw,node-name=f0" % work,
                    "-blockdev", "driver=raw,file=f0,node-name=d0"]
        else:
            disk = ["-drive", "file=%s/disk.raw,format=raw,if=none,id=d0" % work]
        cmd += ["-device", "pcie-root-port,id=rp1,chassis=1"] + disk + [
                "-kernel", elf, "-append", args, "-qmp", "unix:%s,server=on,wait=off" % self.sock]
        self.cmdline = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr.txt"), "w"))
        deadline = time.time() + limit
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(self.sock)
                break
            except OSError:
                self.s.close()
                if time.time() > deadline or self.proc.poll() is not None:
                    raise Failure("cannot connect to QMP")
                time.sleep(0.01)
        self.s.setblocking(False)
        greeting = self.read_message(time.time() + limit)
        if greeting is None or "QMP" not in greeting:
            raise Failure("no QMP greeting")
        self.command("qmp_capabilities")

    def pump(self, timeout):
        """Reads what QMP has (waiting at most timeout s); events go to self.events."""
        import select
        r, _, _ = select.select([self.s], [], [], max(timeout, 0))
        if not r:
            return []
        try:
            data = self.s.recv(65536)
        except BlockingIOError:
            return []
        if not data:
            self.closed = True
            return []
        self.buf += data
        msgs = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if not line.strip():
                continue
            m = json.loads(line)
            now = time.time()
            self.log.append(line.decode())
            if "event" in m:
                self.events.append((now, m))
            msgs.append((now, m))
        return msgs

    closed = False

    def read_message(self, deadline):
        while time.time() < deadline and not self.closed:
            for now, m in self.pump(deadline - time.time()):
                if "event" not in m:
                    return m
        return None

    def command(self, name, arguments=None):
        msg = {"execute": name}
        if arguments is not None:
            msg["arguments"] = arguments
        sent = time.time()
        self.s.sendall((json.dumps(msg) + "\n").encode())
        self.log.append(">>> " + json.dumps(msg))
        reply = self.read_message(time.time() + limit)
        if reply is None:
            raise Failure("no reply to " + name)
        return sent, time.time(), reply

    def serial_text(self):
        try:
            with open(self.serial) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_line(self, line):
        """Time at which the serial output holds this line once more than
        at the previous wait for it."""
        self.waited[line] = want = self.waited.get(line, 0) + 1
        deadline = time.time() + limit
        while time.time() < deadline:
            if self.serial_text().split("\n").count(line) >= want:
                return time.time()
            exited = self.proc.poll() is not None
            self.pump(0.001)
            if exited and self.serial_text().split("\n").count(line) < want:
                raise Failure("QEMU exited before printing %r" % line)
        raise Failure("no %r within %gs" % (line, limit))

    def finish(self):
        deadline = time.time() + limit
        while self.proc.poll() is None and time.time() < deadline:
            self.pump(0.01)
        while not self.closed and self.pump(0.05):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise Failure("QEMU did not exit within %gs after the last step" % limit)
        return self.proc.returncode


def one_run(index):
    r = Run(index)
    t = {"insert": [], "deleted": [], "off": []}
    marks = []                  # (time, label) for the event listing
    try:
        r.wait_line("waiting for events")
        for what, line in steps:
            if what == "add":
                sent, replied, reply = r.command("device_add", ADD)
                if "return" not in reply:
                    raise Failure("device_add: %s" % json.dumps(reply))
                marks.append((sent, "device_add"))
                seen = r.wait_line("slot 0: virtio-blk inserted, capacity 32768 sectors")
                t["insert"].append((seen - replied) * 1000)
                r.wait_line(line)
            else:
                n_before = len(r.events)
                sent, replied, reply = r.command("device_del", DEL)
                if "return" not in reply:
                    raise Failure("device_del: %s" % json.dumps(reply))
                marks.append((sent, "device_del"))
                if scenario != "refuse":
                    t["off"].append((r.wait_line("slot 0: powered off") - sent) * 1000)
                r.wait_line(line)
                if scenario != "refuse":
                    # Both DEVICE_DELETED events, then on.
                    deadline = time.time() + limit
                    while sum(1 for _, e in r.events[n_before:] if e["event"] == "DEVICE_DELETED") < 2:
                        if time.time() > deadline:
                            raise Failure("fewer than two DEVICE_DELETED within %gs of device_del" % limit)
                        r.pump(0.01)
                    for when, e in r.events[n_before:]:
                        if e["event"] == "DEVICE_DELETED":
                            t["deleted"].append((e.get("data", {}).get("path"), (when - sent) * 1000))
        status = r.finish()
    except Failure as e:
        e.run = r
        raise
    finally:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
    return r, status, t, marks


def check(r, status):
    problems = []
    got = r.serial_text()
    with open(expected) as f:
        want = f.read()
    if status != 1:
        problems.append("QEMU exit status %s, want 1 (the guest's PASS)" % status)
    if got != want:
        import difflib
        problems.append("serial output differs from %s:\n%s" % (expected, "".join(
            difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "got"))))
    deleted = [e.get("data", {}) for _, e in r.events if e["event"] == "DEVICE_DELETED"]
    want_events = [{"path": "/machine/peripheral/vd0/virtio-backend"},
                   {"device": "vd0", "path": "/machine/peripheral/vd0"}] * want_deleted
    if deleted != want_events:
        problems.append("DEVICE_DELETED events %s, want %s" % (json.dumps(deleted), json.dumps(want_events)))
    # A refused unplug: qmpd reports DEVICE_UNPLUG_GUEST_ERROR (once); QEMU 7.2's native PCIe path reports nothing.
    refusals = [e.get("data", {}) for _, e in r.events if e["event"] == "DEVICE_UNPLUG_GUEST_ERROR"]
    if refusals and (scenario != "refuse" or refusals != [{"device": "vd0", "path": "/machine/peripheral/vd0"}]):
        problems.append("DEVICE_UNPLUG_GUEST_ERROR events %s" % json.dumps(refusals))
    others = [e["event"] for _, e in r.events if e["event"] not in ("DEVICE_DELETED", "DEVICE_UNPLUG_GUEST_ERROR", "SHUTDOWN")]
    if others:
        problems.append("unexpected events: %s" % ", ".join(others))
    return problems


insert_ms, off_ms, deleted_ms = [], [], {}
failed = False
for i in range(runs):
    try:
        r, status, t, marks = one_run(i)
    except Failure as e:
        print("hotplug %s (%s): FAIL (run %d: %s)" % (scenario, machine, i + 1, e))
        run = getattr(e, "run", None)
        if run:
            print("--- serial output:\n" + run.serial_text() + "--- QMP:\n" + "\n".join(run.log))
        sys.exit(1)
    if i == 0:
        print("command line: " + " ".join(r.cmdline))
        print("QMP events (ms after the command that caused them):")
        for when, e in r.events:
            cause = [m for m in marks if m[0] <= when]
            label = "%s +%.1f ms" % (cause[-1][1], (when - cause[-1][0]) * 1000) if cause else "start"
            print("  %-22s %s" % (label, json.dumps({k: v for k, v in e.items() if k != "timestamp"})))
    problems = check(r, status)
    if problems:
        print("hotplug %s (%s): FAIL (run %d)" % (scenario, machine, i + 1))
        for p in problems:
            print("  " + p)
        print("--- serial output:\n" + r.serial_text() + "--- QMP:\n" + "\n".join(r.log))
        sys.exit(1)
    insert_ms += t["insert"]
    off_ms += t["off"]
    for path, ms in t["deleted"]:
        deleted_ms.setdefault(path, []).append(ms)

def fmt(v):
    return "median %.1f ms (min %.1f, max %.1f, n=%d)" % (statistics.median(v), min(v), max(v), len(v))

print("device_add reply -> \"inserted\" line: " + fmt(insert_ms))
if off_ms:
    print("device_del -> \"powered off\" line: " + fmt(off_ms))
for path, v in deleted_ms.items():
    print("device_del -> DEVICE_DELETED %s: %s" % (path, fmt(v)))
print("hotplug %s (%s): ok (%d run%s)" % (scenario, machine, runs, "" if runs == 1 else "s"))
PY
