#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Reads a Prometheus text exposition (a metrics page) with the Prometheus
client's own parser, prometheus_client.parser.text_string_to_metric_families,
and prints one line per sample, sorted, so shell tests can grep or diff it:

    name{label="value",...} value      (name value, without labels)

Labels are sorted by name and their values escaped as the text format does
(backslash, double quote, newline); values print as Python's shortest
round-trip form, with whole numbers as integers ("+Inf", "-Inf", "NaN").

    prom_parse.py [--json] [--strict] [FILE|-]

--json    print a JSON list of {"family", "type", "name", "labels", "value"}
          instead, sorted the same way
--strict  also fail when a family has no TYPE (the parser then says
          "unknown") or no HELP text

Reads standard input without FILE or with "-". Exits 1 with a message on
standard error when the text does not parse (or, with --strict, when a
family is not fully described), 2 on a usage error.
"""
import json
import math
import signal
import sys

from prometheus_client.parser import text_string_to_metric_families


def label_value(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 2**63:
        return str(int(v))
    return repr(v)


def main(argv):
    # Quietly stop when the reader goes away (`prom_parse.py m.txt | grep -q ...`).
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    as_json = strict = False
    paths = []
    for arg in argv[1:]:
        if arg == "--json":
            as_json = True
        elif arg == "--strict":
            strict = True
        elif arg.startswith("--") or len(paths) == 1:
            print("usage: prom_parse.py [--json] [--strict] [FILE|-]", file=sys.stderr)
            return 2
        else:
            paths.append(arg)
    try:
        if not paths or paths[0] == "-":
            text = sys.stdin.read()
        else:
            with open(paths[0], encoding="utf-8") as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"prom_parse: cannot read the metrics: {e}", file=sys.stderr)
        return 1

    samples = []
    problems = []
    try:
        for family in text_string_to_metric_families(text):
            if strict and family.type in ("unknown", "untyped"):
                problems.append(f"{family.name} has no TYPE line")
            if strict and not family.documentation:
                problems.append(f"{family.name} has no HELP text")
            for s in family.samples:
                samples.append((family.name, family.type, s.name, dict(s.labels), s.value))
    except Exception as e:  # the parser raises ValueError, IndexError, ... on bad input
        print(f"prom_parse: not valid Prometheus text: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if problems:
        for p in problems:
            print(f"prom_parse: {p}", file=sys.stderr)
        return 1

    def series(s):
        if not s[3]:
            return s[2]
        labels = ",".join(f'{k}="{label_value(v)}"' for k, v in sorted(s[3].items()))
        return f"{s[2]}{{{labels}}}"

    samples.sort(key=lambda s: (series(s), s[4]))
    if as_json:
        out = [{"family": f, "type": t, "name": n, "labels": dict(sorted(l.items())),
                "value": number(v)} for f, t, n, l, v in samples]
        json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        for s in samples:
            print(f"{series(s)} {number(s[4])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
