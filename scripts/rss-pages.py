#!/usr/bin/env python3
"""Where a running process's resident memory is: its status lines (anonymous against
file-backed), then the pages of its own binary that are mapped in, by permission, and
the executable ones attributed to crates through the binary's symbols (a page shared by
several crates' code is split by bytes).

usage: scripts/rss-pages.py PID [TOP]     (BENCHMARKS.md, "Idle memory", uses it)

File-backed pages count in RSS once mapped, and Linux maps up to 16 neighbouring pages of
the page cache on each fault ("fault-around"), so code touched once at start-up brings its
64 KiB neighbourhood along: the attribution says which code sits where pages are mapped,
not only what ran."""
import os, re, struct, subprocess, sys, collections, bisect

pid = int(sys.argv[1]); top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
exe = os.readlink(f"/proc/{pid}/exe")
maps = []
for line in open(f"/proc/{pid}/maps"):
    parts = line.split()
    if len(parts) >= 6 and parts[5] == exe:
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        maps.append((lo, hi, int(parts[2], 16), parts[1]))
if not maps:
    sys.exit(f"rss-pages: no mapping of {exe} in process {pid} (was the binary replaced?)")
base = min(m[0] - m[2] for m in maps)  # load bias (PIE)
syms = []
out = subprocess.run(["nm", "--defined-only", "-C", "-S", "--size-sort", exe], capture_output=True, text=True).stdout
for line in out.splitlines():
    p = line.split(None, 3)
    if len(p) == 4:
        syms.append((int(p[0], 16), int(p[1], 16), p[3]))
syms.sort()
addrs = [s[0] for s in syms]

def crate(name):
    name = re.sub(r"^(<|&|\*const |\*mut |dyn )+", "", name)
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", name)
    return m.group(1) if m else "(other)"

pm = open(f"/proc/{pid}/pagemap", "rb")
by = collections.Counter(); perm_pages = collections.Counter()
for lo, hi, off, perm in maps:
    for va in range(lo, hi, 4096):
        pm.seek(va // 4096 * 8)
        entry = struct.unpack("<Q", pm.read(8))[0]
        if not entry >> 63 & 1:
            continue
        perm_pages[perm] += 1
        if "x" not in perm:
            continue
        rel = va - base
        # the crates whose symbols overlap this page, split evenly
        i = bisect.bisect_right(addrs, rel + 4096) - 1
        owners = collections.Counter()
        while i >= 0 and syms[i][0] + max(syms[i][1], 1) > rel:
            a, sz, name = syms[i]
            lo2, hi2 = max(a, rel), min(a + sz, rel + 4096)
            if hi2 > lo2:
                owners[crate(name)] += hi2 - lo2
            i -= 1
            if rel - a > 1 << 20:
                break
        total = sum(owners.values()) or 1
        for c, b in owners.items():
            by[c] += 4096 * b / total
        if not owners:
            by["(no symbol)"] += 4096
for line in open(f"/proc/{pid}/status"):
    if line.startswith(("VmRSS", "RssAnon", "RssFile", "Threads")):
        print(" ".join(line.split()))
for perm, n in perm_pages.items():
    print(f"{perm}: {n*4} KiB resident")
for c, b in by.most_common(top):
    print(f"{b/1024:8.0f} KiB  {c}")
