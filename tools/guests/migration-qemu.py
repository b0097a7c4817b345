#!/usr/bin/env python3
"""Live-migrates the migration guest between two QEMUs and checks the destination's memory.

    tools/guests/migration-qemu.py [--mem MIB] [--append ARGS] [--bandwidth BYTES] [--keep DIR]

Builds the guests (tools/guests/build.sh), starts a destination QEMU with -incoming unix:...,
a source running tools/guests/migration, waits for a 'B' on the source's serial port, migrates
over the unix socket (events on; max-bandwidth as given, default QEMU's 128 MiB/s), waits for
'completed', then for a new 'B' on the destination's serial port (the guest runs on there),
stops the destination, pmemsaves its RAM and checks the single-step invariant the way
tests/Qmp.Functional.Tests/MigrationGuestCheck.cs does. Prints query-migrate's figures.
Exit status 0 when the check passes. QEMU is $QEMU (default qemu-system-i386); QEMU=qmpd runs
the same between two qmpd processes.
"""
import argparse, json, os, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = 4096


class Qmp:
    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.file = self.sock.makefile("rb")
        self.events = []
        json.loads(self.file.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode())
        while True:
            reply = json.loads(self.file.readline())
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"{name}: {reply['error']}")
            return reply["return"]


def check(dump, start, end):
    """QEMU's check_guests_ram(): one step down by exactly one allowed, nothing else."""
    first = last = dump[start]
    edge, bad = None, 0
    for address in range(start + PAGE, end, PAGE):
        b = dump[address]
        if b != last:
            if (b + 1) & 0xFF == last and edge is None:
                edge = address
            else:
                bad += 1
                if bad <= 10:
                    print(f"  bad page 0x{address:x}: 0x{b:02x} after 0x{last:02x}", file=sys.stderr)
        last = b
    return first, edge, bad


def markers(path):
    """'B's, not counting the banner line's (its "MiB"); a destination prints no banner."""
    text = open(path, "rb").read()
    if text.startswith(b"migration guest"):
        text = text.split(b"\n", 1)[1] if b"\n" in text else b""
    return text.count(b"B")


def wait_serial(path, count, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and markers(path) >= count:
            return
        time.sleep(0.02)
    raise TimeoutError(f"no {count}th 'B' in {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mem", type=int, default=128, help="guest RAM in MiB (default 128)")
    ap.add_argument("--append", default="", help="guest arguments (start=, end=, every=)")
    ap.add_argument("--bandwidth", type=int, default=None, help="max-bandwidth in bytes/s")
    ap.add_argument("--keep", help="write files here and keep them")
    a = ap.parse_args()
    qemu = os.environ.get("QEMU", "qemu-system-i386")
    out = os.environ.get("GUEST_OUT", "/tmp/qmpd-guests")
    subprocess.run([os.path.join(HERE, "build.sh"), out, "migration"], check=True, stdout=subprocess.DEVNULL)
    work = a.keep or tempfile.mkdtemp(prefix="migration-qemu-")
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n)
    common = [qemu, "-nodefaults", "-display", "none", "-m", str(a.mem),
              "-kernel", os.path.join(out, "migration.elf"), "-append", a.append]
    dst = subprocess.Popen(common + ["-serial", "file:" + p("dst.serial"), "-incoming", "unix:" + p("mig.sock"),
                                     "-qmp", f"unix:{p('dst.qmp')},server=on,wait=off"], stdin=subprocess.DEVNULL)
    src = subprocess.Popen(common + ["-serial", "file:" + p("src.serial"),
                                     "-qmp", f"unix:{p('src.qmp')},server=on,wait=off"], stdin=subprocess.DEVNULL)
    try:
        s, d = Qmp(p("src.qmp")), Qmp(p("dst.qmp"))
        wait_serial(p("src.serial"), 1)
        for q in (s, d):
            q.cmd("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}])
        if a.bandwidth:
            s.cmd("migrate-set-parameters", **{"max-bandwidth": a.bandwidth})
        s.cmd("migrate", uri="unix:" + p("mig.sock"))
        while (info := s.cmd("query-migrate"))["status"] not in ("completed", "failed", "cancelled"):
            time.sleep(0.01)
        if info["status"] != "completed":
            print(json.dumps(info), file=sys.stderr)
            return 1
        ram = info.get("ram", {})
        print(f"total-time {info.get('total-time')} ms, downtime {info.get('downtime')} ms, "
              f"setup-time {info.get('setup-time')} ms, transferred {ram.get('transferred')} B, "
              f"dirty-sync-count {ram.get('dirty-sync-count')}, mbps {ram.get('mbps')}")
        before = markers(p("dst.serial"))
        wait_serial(p("dst.serial"), before + 1)
        d.cmd("stop")
        d.cmd("pmemsave", val=0, size=a.mem << 20, filename=p("dst.mem"))
        dump = open(p("dst.mem"), "rb").read()
        words = dict(w.split("=", 1) for w in a.append.split() if "=" in w)
        start = int(words.get("start", 2)) << 20
        end = min(int(words.get("end", 100)), a.mem - 1) << 20
        first, edge, bad = check(dump, start, end)
        print(f"destination: {(end - start) // PAGE} pages, first byte 0x{first:02x}, "
              f"edge {hex(edge) if edge else 'none'}, bad {bad}; serial continued ({before} -> more 'B')")
        s.cmd("quit")
        d.cmd("quit")
        return 0 if bad == 0 else 1
    finally:
        for proc in (src, dst):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
