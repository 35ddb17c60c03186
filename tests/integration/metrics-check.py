#!/usr/bin/env python3
# Checks a Prometheus text exposition (format 0.0.4) read on stdin, line
# by line against the grammar: HELP/TYPE once per family and before its
# samples, samples of a family together, names and label names valid,
# label values escaped, values numbers, counters named *_total, histogram
# buckets cumulative and ending in +Inf = _count, no duplicate series,
# every family named unikd_*. Each argument is a regular expression that
# some sample line must match. Exit 0 when all holds, else 1 with reasons.
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(
    r"^(" + NAME + r")(?:\{((?:" + LABEL + "=" + VALUE + r",?)*)\})?"
    r" ([^ ]+)(?: (-?[0-9]+))?$")
LABEL_RE = re.compile("(" + LABEL + ")=(" + VALUE + ")")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

errors = []
families = {}          # name -> {"type", "help", "done"}
current = None         # family whose samples come now
series = set()
hist = {}              # (family, labels without le) -> [(le, v)], count


def err(n, msg):
    errors.append("line %d: %s" % (n, msg))


def family_of(name):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and families.get(base, {}).get("type") \
                == "histogram":
            return base
    return name


def number(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    return float(s)


lines = sys.stdin.read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
else:
    errors.append("the exposition does not end with a newline")
samples = []
for n, line in enumerate(lines, 1):
    if line == "":
        continue
    if line.startswith("#"):
        m = re.match(r"^# (HELP|TYPE) (" + NAME + r") (.*)$", line)
        if not m:
            continue  # a plain comment
        kind, name, rest = m.groups()
        fam = families.setdefault(name, {"done": False})
        if fam["done"] or fam.get("samples"):
            err(n, "%s for %s after its samples" % (kind, name))
        if kind.lower() in fam:
            err(n, "second %s for %s" % (kind, name))
        fam[kind.lower()] = rest
        if kind == "TYPE" and rest not in TYPES:
            err(n, "unknown type %r" % rest)
        if kind == "HELP" and re.search(r"\\[^\\n]", rest):
            err(n, "bad escape in HELP")
        if current is not None and current != name:
            families[current]["done"] = True
        current = name
        continue
    m = SAMPLE.match(line)
    if not m:
        err(n, "not a sample: %r" % line)
        continue
    name, labels, value, _ = m.groups()
    fam_name = family_of(name)
    fam = families.get(fam_name)
    if fam is None or "type" not in fam:
        err(n, "sample of %s before its TYPE" % fam_name)
        fam = families.setdefault(fam_name, {"done": False})
    if fam.get("done"):
        err(n, "samples of %s are not together" % fam_name)
    if current is not None and current != fam_name:
        families[current]["done"] = True
    current = fam_name
    fam["samples"] = True
    pairs = LABEL_RE.findall(labels or "")
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        err(n, "a label twice")
    key = (name, tuple(sorted(pairs)))
    if key in series:
        err(n, "duplicate series %s" % line.rsplit(" ", 1)[0])
    series.add(key)
    try:
        v = number(value)
    except ValueError:
        err(n, "value %r is not a number" % value)
        continue
    samples.append(line)
    if fam.get("type") == "counter" and not name.endswith("_total"):
        err(n, "counter %s does not end in _total" % name)
    if fam.get("type") == "counter" and v < 0:
        err(n, "counter %s is negative" % name)
    if fam.get("type") == "histogram":
        rest = tuple(sorted(p for p in pairs if p[0] != "le"))
        h = hist.setdefault((fam_name, rest), {"b": [], "count": None})
        if name.endswith("_bucket"):
            le = dict(pairs).get("le")
            if le is None:
                err(n, "bucket without le")
            else:
                h["b"].append((number(le.strip('"')), v))
        elif name.endswith("_count"):
            h["count"] = v

for name, fam in families.items():
    if not name.startswith("unikd_"):
        errors.append("family %s is not named unikd_*" % name)
    if "help" not in fam or "type" not in fam:
        errors.append("family %s lacks HELP or TYPE" % name)
for (name, rest), h in hist.items():
    b = h["b"]
    if [x for x, _ in b] != sorted(x for x, _ in b) or not b or \
            b[-1][0] != float("inf"):
        errors.append("%s%s: buckets out of order or no +Inf" % (name, rest))
    elif any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
        errors.append("%s%s: buckets not cumulative" % (name, rest))
    elif h["count"] != b[-1][1]:
        errors.append("%s%s: +Inf bucket != _count" % (name, rest))
for want in sys.argv[1:]:
    if not any(re.search(want, s) for s in samples):
        errors.append("no sample matches %r" % want)

if errors:
    for e in errors:
        print("metrics: " + e, file=sys.stderr)
    sys.exit(1)
print("metrics: ok, %d families, %d samples" % (len(families), len(samples)))
