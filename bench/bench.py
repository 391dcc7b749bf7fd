#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helpers for bench/run.

  bench.py boot LOG TIMEOUT -- QEMU ARGS...
      Starts QEMU with the serial console in LOG, watches LOG, prints a JSON
      object: host wall seconds from QEMU start to the first container's
      output (`bench: first-output`) and to `bench: done`; stops QEMU at
      `bench: done`, at TIMEOUT or when it exits.

  bench.py watch LOG TIMEOUT MARK -- CMD ARGS...
      Runs CMD (which writes a console log to LOG, e.g. `berth vm --log`),
      prints a JSON list of [host wall seconds since CMD started, line] for
      every line of LOG that contains MARK, as the lines appear; stops CMD at
      TIMEOUT. For figures that span a guest reboot (bench/update).

  bench.py report RESULTS.json BENCHMARKS.md
      Reads what bench/run gathered, prints the table, rewrites the results
      part of BENCHMARKS.md.
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

LINE = re.compile(r"^(?:.*?)(bench|berth): (.*?)\s*$")


def cmd_boot(argv):
    log, timeout = argv[0], float(argv[1])
    qemu = argv[argv.index("--") + 1:]
    open(log, "wb").close()
    t0 = time.monotonic()
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(log + ".qemu", "wb"), start_new_session=True)
    res = {"wall_first_output": None, "wall_done": None, "timed_out": False}
    pos, buf = 0, b""
    with open(log, "rb") as f:
        while True:
            f.seek(pos)
            chunk = f.read()
            now = time.monotonic() - t0
            if chunk:
                pos += len(chunk)
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    s = raw.decode("utf-8", "replace")
                    if "bench: first-output" in s and res["wall_first_output"] is None:
                        res["wall_first_output"] = round(now, 2)
                    if "bench: done" in s and res["wall_done"] is None:
                        res["wall_done"] = round(now, 2)
            if res["wall_done"] is not None or proc.poll() is not None:
                break
            if now > timeout:
                res["timed_out"] = True
                break
            time.sleep(0.02)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    res["qemu_rc"] = proc.returncode
    print(json.dumps(res))


def cmd_watch(argv):
    log, timeout, mark = argv[0], float(argv[1]), argv[2].encode()
    cmd = argv[argv.index("--") + 1:]
    open(log, "wb").close()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    seen, pos, buf = [], 0, b""
    while True:
        ended = proc.poll() is not None
        with open(log, "rb") as f:
            f.seek(pos)
            chunk = f.read()
        now = round(time.monotonic() - t0, 2)
        pos += len(chunk)
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            if mark in raw:
                seen.append([now, raw.decode("utf-8", "replace").strip()])
        if ended:
            break
        if now > timeout:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            seen.append([now, "timed out"])
            break
        time.sleep(0.05)
    print(json.dumps(seen))


def parse_log(path):
    """bench: and berth: timeline lines of one console log."""
    out = {"timeline": {}}
    try:
        text = open(path, "rb").read().decode("utf-8", "replace")
    except OSError:
        return out
    for raw in text.replace("\r", "\n").split("\n"):
        m = LINE.match(raw)
        if not m:
            continue
        words = m.group(2).split()
        if not words:
            continue
        if m.group(1) == "berth":
            if words[0] == "timeline" and len(words) >= 3:
                out["timeline"].setdefault(words[1], words[2])
            continue
        key, rest = words[0], words[1:]
        if key == "error":
            out.setdefault("errors", []).append(" ".join(rest))
        elif key in ("ctr-run",):
            out[key] = [float(x) for x in rest]
        elif key in ("own-procs", "procs", "transient-left"):
            out[key] = " ".join(rest)
        elif rest:
            try:
                out[key] = float(rest[0])
            except ValueError:
                out[key] = rest[0]
        else:
            out[key] = True
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else None


def fmt(v, unit="", decimals=None):
    if v is None:
        return "n/a"
    if decimals is None:
        decimals = 0 if unit == "" and float(v).is_integer() else 2
    return f"{v:.{decimals}f}{unit}"


def cmd_report(argv):
    res = json.load(open(argv[0]))
    md_path = argv[1]
    boots = {}
    for kind in ("berth", "ref"):
        bl = []
        for b in res.get("boots", {}).get(kind, []):
            g = parse_log(b["log"])
            g.update({k: b.get(k) for k in ("wall_first_output", "wall_done", "timed_out")})
            bl.append(g)
        boots[kind] = bl

    def boot_metric(kind, key):
        return [b.get(key) if isinstance(b.get(key), (int, float)) else None for b in boots[kind]]

    rows = []  # (section, name, berth, ref, unit, lower_is_better, spread_b, spread_r)

    def add(section, name, b, r, unit, sb=None, sr=None):
        rows.append((section, name, b, r, unit, sb, sr))

    # containerd ready = its socket accepts a connection. berth's payload starts
    # only after every service settled (the network included), so berth's
    # figure is berth-init's own check (the same connect, every 50 ms), the
    # reference's is bench/sockready.c from bench.service (every 10 ms).
    # Network ready = a global address off lo and a default route of the same
    # family: berth-init's timeline (rtnetlink), the reference's
    # bench-net.service running bench/netwait.c (the same code, rtnetlink).
    for bt in boots["berth"]:
        bt["payload-containerd-ready"] = bt.get("containerd-ready")
        v = bt["timeline"].get("containerd-ready")
        bt["containerd-ready"] = float(v) if v else None
        v = bt["timeline"].get("network-ready")
        bt["network-ready"] = float(v) if v else None
        v = bt["timeline"].get("switch-root")
        bt["root-init"] = float(v) if v else None
    for bt in boots["ref"]:
        bt["payload-containerd-ready"] = bt.get("containerd-ready")
        bt["init-containerd-ready"] = bt.get("containerd-active")
    for key, name in (("init-start", "kernel start -> init start (guest uptime)"),
                      ("root-init", "-> init in the real root (berth: switch-root, ref: systemd) (context)"),
                      ("containerd-ready", "-> containerd ready (guest uptime)"),
                      ("network-ready", "-> network ready: address + default route (guest uptime)"),
                      ("payload-containerd-ready", "-> containerd socket answers, seen from the payload (context)"),
                      ("init-containerd-ready", "-> containerd ready as systemd saw it (ref only, context)"),
                      ("first-output", "-> first container output (guest uptime)"),
                      ("wall_first_output", "QEMU start -> first container output (host wall)")):
        b, r = boot_metric("berth", key), boot_metric("ref", key)
        add("boot", name, med(b), med(r), " s", spread(b), spread(r))

    def kb_to_mib(v):
        return None if v is None else v / 1024

    for key, name in (("init-rss-kb", "RSS of berth-init, PID 1 (berth only)"),
                      ("berthd-rss-kb", "RSS of berthd, the node API, if running at idle (berth only)")):
        b = boot_metric("berth", key)
        add("memory", name, kb_to_mib(med(b)), None, " MiB",
            tuple(map(kb_to_mib, spread(b))) if spread(b) else None, None)

    for key, name in (("own-rss-kb", "RSS of the host's own processes"),
                      ("memavailable-kb", "MemAvailable after boot"),
                      ("all-rss-kb", "RSS of all processes (context)"),
                      ("containerd-rss-kb", "RSS of containerd (context)")):
        b, r = boot_metric("berth", key), boot_metric("ref", key)
        add("memory", name, kb_to_mib(med(b)), kb_to_mib(med(r)), " MiB",
            tuple(map(kb_to_mib, spread(b) or (None, None))) if spread(b) else None,
            tuple(map(kb_to_mib, spread(r) or (None, None))) if spread(r) else None)

    for key, name in (("import-s", "ctr images import (busybox)"),):
        b, r = boot_metric("berth", key), boot_metric("ref", key)
        add("containers", name, med(b), med(r), " s", spread(b), spread(r))
    runs = {k: [x for bt in boots[k] for x in bt.get("ctr-run", [])] for k in boots}
    per_boot = {k: [bt.get("ctr-run-median") for bt in boots[k]] for k in boots}
    add("containers", f"ctr run --rm busybox, median of {len(runs['berth'])} / {len(runs['ref'])} runs",
        med(runs["berth"]), med(runs["ref"]), " s", spread(per_boot["berth"]), spread(per_boot["ref"]))

    size = res.get("size", {})
    for key, name, div, unit in (("package_count", "packages", 1, ""),
                                 ("usr_bytes", "installed size of /usr", 2**20, " MiB"),
                                 ("disk_zstd_bytes", "disk image compressed (zstd -3)", 2**20, " MiB"),
                                 ("disk_bytes", "disk image size (apparent)", 2**20, " MiB"),
                                 ("disk_alloc_bytes", "disk image size (allocated)", 2**20, " MiB")):
        b = size.get("berth", {}).get(key)
        r = size.get("ref", {}).get(key)
        add("size", name, None if b is None else b / div, None if r is None else r / div, unit)

    comp = res.get("composer", {})
    add("composer", "compose from a warm package cache", comp.get("warm_compose_s"),
        comp.get("ref_build_s"), " s")
    add("composer", f"dm-verity hashing, {comp.get('verity_mib', '?')} MiB "
        "(berth verity_format vs veritysetup format, best of 3)",
        comp.get("verity_berth_s"), comp.get("verity_ref_s"), " s")
    vm = comp.get("verity_mib")
    thr = lambda t: vm / t if (t and isinstance(vm, (int, float))) else None
    add("composer", "dm-verity hashing throughput (higher is better)",
        thr(comp.get("verity_berth_s")), thr(comp.get("verity_ref_s")), " MiB/s")

    def ratio(b, r):
        if b is None or r is None or r == 0:
            return None
        return b / r

    def row_value(name):
        for row in rows:
            if row[1] == name:
                return row
        return None

    targets = []

    def target(desc, ok):
        targets.append((desc, "n/a" if ok is None else ("pass" if ok else "FAIL")))

    pc = size.get("berth", {}).get("package_count")
    target("package count <= 60", None if pc is None else pc <= 60)
    zb = size.get("berth", {}).get("disk_zstd_bytes")
    target("compressed image (zstd -3 disk) < 64 MiB", None if zb is None else zb < 64 * 2**20)
    r = row_value("-> containerd ready (guest uptime)")
    rr = ratio(r[2], r[3])
    target("boot to containerd ready <= 0.3 x reference", None if rr is None else rr <= 0.3)
    r = row_value("-> network ready: address + default route (guest uptime)")
    rr = ratio(r[2], r[3])
    target("boot to network ready <= 0.3 x reference (measured the same way)",
           None if rr is None else rr <= 0.3)
    r = row_value("RSS of the host's own processes")
    rr = ratio(r[2], r[3])
    target("idle RSS of own processes <= 0.2 x reference", None if rr is None else rr <= 0.2)
    wc = comp.get("warm_compose_s")
    target("compose from warm cache < 15 s", None if wc is None else wc < 15)
    vb, vr = comp.get("verity_berth_s"), comp.get("verity_ref_s")
    target("verity hashing >= 0.9 x veritysetup speed",
           None if not (vb and vr) else (vr / vb) >= 0.9)

    facts = res.get("facts", {})
    out = []
    out.append(f"### Run of {facts.get('date', '?')}")
    out.append("")
    out.append(f"- machine: {facts.get('cpu', '?')}, {facts.get('nproc', '?')} cores, "
               f"{facts.get('mem', '?')} RAM; accelerator **{facts.get('accel', '?')}**")
    out.append(f"- guests: {facts.get('qemu', '')}")
    out.append(f"- berth: commit {facts.get('commit', '?')}, {facts.get('berth_cmd', '')}")
    out.append(f"- reference: `{facts.get('ref_cmd', '')}`")
    out.append(f"- boots: {facts.get('boots', '?')} each; boot and memory figures are the median "
               "with [min-max] spread; ratio = berth / reference (lower is better except for MemAvailable "
               "and throughput)")
    out.append(f"- total bench time: {facts.get('total_s', '?')} s")
    out.append("")
    out.append("| section | figure | berth | reference | ratio |")
    out.append("|---|---|---|---|---|")
    for section, name, b, r, unit, sb, sr in rows:
        def cell(v, s):
            c = fmt(v, unit)
            if s and s[0] is not None and len(boots["berth"]) > 1:
                c += f" [{fmt(s[0], '', 2)}-{fmt(s[1], '', 2)}]"
            return c
        rt = ratio(b, r)
        out.append(f"| {section} | {name} | {cell(b, sb)} | {cell(r, sr)} | "
                   f"{'n/a' if rt is None else f'{rt:.2f}'} |")
    out.append("")
    out.append("| target | result |")
    out.append("|---|---|")
    for d, v in targets:
        out.append(f"| {d} | {v} |")
    errs = []
    for kind in boots:
        for i, b in enumerate(boots[kind]):
            for e in b.get("errors", []):
                errs.append(f"{kind} boot {i + 1}: {e}")
            if b.get("timed_out"):
                errs.append(f"{kind} boot {i + 1}: timed out")
            if b.get("own-procs"):
                pass
    if errs:
        out.append("")
        out.append("Problems in this run:")
        out.append("")
        for e in errs:
            out.append(f"- {e}")
    extra = [f"- {n}" for n in res.get("notes", [])]
    for kind in boots:
        if boots[kind]:
            b = boots[kind][0]
            if b.get("own-procs"):
                extra.append(f"- {kind} own processes (comm:pid:kB), boot 1: `{b['own-procs']}`")
            if b.get("transient-left"):
                extra.append(f"- {kind} services still running (not network, chrony, containerd) "
                             f"when RSS was sampled, boot 1: {b['transient-left']}")
            if b.get("procs"):
                extra.append(f"- {kind} all processes, boot 1: `{b['procs']}`")
            if b.get("timeline"):
                extra.append(f"- {kind} timeline, boot 1: " +
                             ", ".join(f"{k} {v}" for k, v in b["timeline"].items()))
    if extra:
        out.append("")
        out += extra
    table = "\n".join(out) + "\n"
    print(table)

    begin, end = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
    try:
        md = open(md_path).read()
    except OSError:
        md = ""
    if begin in md and end in md:
        head, rest = md.split(begin, 1)
        tail = rest.split(end, 1)[1]
        md = f"{head}{begin}\n{table}{end}{tail}"
    else:
        md = f"{md.rstrip()}\n\n## Latest results\n\n{begin}\n{table}{end}\n"
    with open(md_path + ".tmp", "w") as f:
        f.write(md)
    os.replace(md_path + ".tmp", md_path)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "boot":
        cmd_boot(sys.argv[2:])
    elif sys.argv[1] == "watch":
        cmd_watch(sys.argv[2:])
    elif sys.argv[1] == "report":
        cmd_report(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
