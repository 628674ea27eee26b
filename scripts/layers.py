#!/usr/bin/env python3
"""The import direction of a crate: each top-level module is a concept, `crate::x` in a file
of concept `a` is an edge a -> x (test modules and comments aside). Fails when concepts form
a loop, or when a module named with --facade is imported by the crate itself.

    scripts/layers.py CRATE_DIR [--facade codegen] [--exempt generated] [--quiet]

Prints the concepts by layer (0 imports nothing of the crate), then every loop with the
file:line of its edges.
"""
import argparse
import os
import re
import sys
from collections import defaultdict

WORD = r"[A-Za-z_][A-Za-z0-9_]*"
TOKENS = re.compile(r'//[^\n]*|/\*.*?\*/|r#*"|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'|.', re.S)


def code_only(text):
    """Comments and string literals replaced by spaces (line breaks kept)."""
    out = []
    pos = 0
    while pos < len(text):
        m = TOKENS.match(text, pos)
        tok = m.group(0)
        if tok.startswith("r") and tok.endswith('"') and len(tok) >= 2 and set(tok[1:-1]) <= {"#"}:
            hashes = tok[1:-1]
            end = text.find('"' + hashes, m.end())
            end = len(text) if end < 0 else end + 1 + len(hashes)
            tok = text[pos:end]
            pos = end
        else:
            pos = m.end()
        if tok.startswith(("//", "/*", '"', "r")) and len(tok) > 1:
            out.append(re.sub(r"[^\n]", " ", tok))
        else:
            out.append(tok)
    return "".join(out)


def without_tests(text):
    """`#[cfg(test)] mod x { ... }` blanked out."""
    pat = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+" + WORD + r"\s*\{")
    while (m := pat.search(text)) is not None:
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        text = text[: m.start()] + re.sub(r"[^\n]", " ", text[m.start() : i]) + text[i:]
    return text


def group_names(text, start):
    """The first name of each top-level item of the `{...}` group opening at text[start]."""
    depth, items, item = 0, [], ""
    for c in text[start:]:
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth == 0:
            break
        if depth == 1 and c == ",":
            items.append(item)
            item = ""
        elif not (depth == 1 and c == "{"):
            item += c
    items.append(item)
    return [m.group(0) for m in (re.match(r"\s*" + WORD, i) for i in items) if m and m.group(0).strip()]


def edges_of(src):
    concepts = {e[:-3] if e.endswith(".rs") else e for e in os.listdir(src)
                if (e.endswith(".rs") and e not in ("lib.rs", "main.rs")) or os.path.isdir(os.path.join(src, e))}
    edges = defaultdict(list)
    for root, _, files in os.walk(src):
        for name in sorted(files):
            path = os.path.join(root, name)
            if not name.endswith(".rs") or (root == src and name in ("lib.rs", "main.rs")):
                continue
            rel = os.path.relpath(path, src).split(os.sep)[0]
            here = rel[:-3] if rel.endswith(".rs") else rel
            text = without_tests(code_only(open(path, encoding="utf-8", errors="replace").read()))
            for m in re.finditer(r"\bcrate\s*::\s*", text):
                rest = text[m.end():]
                targets = group_names(text, m.end()) if rest.startswith("{") else re.findall("^" + WORD, rest)
                line = text.count("\n", 0, m.start()) + 1
                for target in targets:
                    if target in concepts and target != here:
                        edges[(here, target)].append(f"{os.path.relpath(path)}:{line}")
    return concepts, edges


def loops(concepts, edges):
    """Strongly connected components with more than one concept (Kosaraju)."""
    out_edges, in_edges = defaultdict(set), defaultdict(set)
    for a, b in edges:
        out_edges[a].add(b)
        in_edges[b].add(a)
    order, seen = [], set()
    for start in sorted(concepts):
        if start in seen:
            continue
        stack = [(start, iter(sorted(out_edges[start])))]
        seen.add(start)
        while stack:
            node, it = stack[-1]
            nxt = next((n for n in it if n not in seen), None)
            if nxt is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(nxt)
                stack.append((nxt, iter(sorted(out_edges[nxt]))))
    comp, groups = {}, []
    for node in reversed(order):
        if node in comp:
            continue
        group, todo = [], [node]
        comp[node] = len(groups)
        while todo:
            n = todo.pop()
            group.append(n)
            for p in in_edges[n]:
                if p not in comp:
                    comp[p] = len(groups)
                    todo.append(p)
        groups.append(sorted(group))
    return [g for g in groups if len(g) > 1], comp, groups


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("crate")
    ap.add_argument("--facade", action="append", default=[])
    ap.add_argument("--exempt", action="append", default=[])
    ap.add_argument("--quiet", action="store_true", help="print only what is wrong")
    args = ap.parse_args()
    src = os.path.join(args.crate, "src")
    if not os.path.isdir(src):
        print(f"layers: {src} does not exist", file=sys.stderr)
        return 2
    concepts, edges = edges_of(src)
    bad, comp, groups = loops(concepts, edges)
    level = {}

    def depth(g):
        if g not in level:
            level[g] = 0
            below = {comp[b] for (a, b) in edges if comp[a] == g and comp[b] != g}
            level[g] = 1 + max((depth(x) for x in below), default=-1)
        return level[g]

    if not args.quiet:
        print(f"{args.crate}: {len(concepts)} concepts, {len(edges)} edges")
        for g in range(len(groups)):
            depth(g)
        for lvl in sorted(set(level.values()), reverse=True):
            names = sorted(" + ".join(groups[g]) for g in level if level[g] == lvl)
            print(f"  layer {lvl}: {', '.join(names)}")
    failed = False
    for group in bad:
        failed = True
        print(f"loop: {', '.join(group)}")
        for (a, b), where in sorted(edges.items()):
            if a in group and b in group:
                print(f"  {a} -> {b}: {', '.join(where[:3])}")
    for facade in args.facade:
        for (a, b), where in sorted(edges.items()):
            if b == facade and a not in args.exempt:
                failed = True
                print(f"facade {facade} imported by {a}: {', '.join(where[:3])}")
    print(f"layers {args.crate}: {'FAIL' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
