#!/bin/sh
#
# Calls go down: no cycle of more than two source files in which each
# file uses the next. A file uses another when it includes its header
# (#include "name.h"); foo.c and foo.h are one node, named foo. Test code
# (tests/) is left out. A cycle of two (a module and its helper that call
# each other) is allowed; a longer one means a lower layer calls up and
# fails the check, naming the files of the cycle.
#
# Run by `make check` and `make check-layout`; by hand:
#   tests/check-layout.sh [SRCDIR]
#
srcdir=${1:-${top_srcdir:-$(dirname "$0")/..}}
command -v python3 >/dev/null 2>&1 || {
	echo "SKIP: python3 is needed to walk the include graph"
	exit 77
}
exec python3 - "$srcdir" <<'EOF'
import os, re, sys

root = sys.argv[1]
skip = {"tests", ".git", "autom4te.cache", "build-aux", "debian", "m4"}
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# node -> the nodes whose header it includes (by basename)
files = {}
for d, dirs, names in os.walk(root):
    if d == root:
        dirs[:] = [x for x in dirs if x not in skip]
    for n in names:
        if n.endswith((".c", ".h")):
            files.setdefault(n[:-2], []).append(os.path.join(d, n))
uses = {}
for node, paths in files.items():
    out = set()
    for p in paths:
        with open(p, errors="replace") as f:
            for h in inc.findall(f.read()):
                b = os.path.basename(h)
                if b.endswith(".h") and b[:-2] in files and b[:-2] != node:
                    out.add(b[:-2])
    uses[node] = out

# Tarjan's strongly connected components, without recursion.
index, low, on, stack, sccs, n = {}, {}, set(), [], [], 0
for start in sorted(uses):
    if start in index:
        continue
    work = [(start, iter(sorted(uses[start])))]
    index[start] = low[start] = n; n += 1
    stack.append(start); on.add(start)
    while work:
        v, it = work[-1]
        w = next(it, None)
        if w is not None:
            if w not in index:
                index[w] = low[w] = n; n += 1
                stack.append(w); on.add(w)
                work.append((w, iter(sorted(uses[w]))))
            elif w in on:
                low[v] = min(low[v], index[w])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            sccs.append(sorted(comp))

def path(comp, a, b):
    """Shortest path a -> b inside comp (breadth first)."""
    prev, todo = {a: None}, [a]
    for v in todo:
        for w in sorted(uses[v] & set(comp)):
            if w not in prev:
                prev[w] = v; todo.append(w)
    p, v = [], b
    while v is not None:
        p.append(v); v = prev[v]
    return p[::-1]

def long_cycle(comp):
    """A cycle of three or more nodes in a strongly connected comp, or
    None. Without one, every edge goes both ways and the pairs form a
    tree: only cycles of two."""
    cs = set(comp)
    for a in comp:
        for b in sorted(uses[a] & cs):
            if a not in uses[b]:
                return [a] + path(comp, b, a)
    pairs = {frozenset((a, b)) for a in comp for b in uses[a] & cs}
    if len(pairs) == len(comp) - 1:
        return None
    # a cycle in the undirected pairs: walk it one way round
    parent, todo = {comp[0]: None}, [comp[0]]
    while todo:
        v = todo.pop()
        for w in sorted(uses[v] & cs):
            if w == parent[v]:
                continue
            if w in parent:
                up, x = [], v
                while x is not None:
                    up.append(x); x = parent[x]
                down, x = [], w
                while x not in up:
                    down.append(x); x = parent[x]
                return up[:up.index(x) + 1][::-1] + down[::-1] + [x]
            parent[w] = v; todo.append(w)
    return comp + comp[:1]

bad = 0
for comp in sccs:
    if len(comp) < 3:
        continue
    cyc = long_cycle(comp)
    if cyc is None:
        continue
    bad += 1
    print("FAIL: %d files use each other: %s" % (len(comp), " ".join(comp)))
    print("      e.g. %s" % " -> ".join(cyc))
nodes = len(uses)
edges = sum(len(v) for v in uses.values())
if bad:
    sys.exit(1)
print("PASS: %d source files (%d uses), no cycle of more than two" %
      (nodes, edges))
EOF
