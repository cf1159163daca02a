#!/usr/bin/env python3
"""Lists C functions longer than a limit (default 80 lines, from the signature's first line to the
closing brace). Assumes the clang-format layout: a function body opens with `{` at the end of its
signature and closes with `}` in column 0. Usage: .ci/funclen.py [--max N] [--top K] FILE...
Exit 1 if any function is longer than N."""
import re
import sys


def strip(line, state):
    """The line without comments, strings and char literals; state: inside a /* */ comment."""
    out, i = [], 0
    while i < len(line):
        if state[0]:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out)
            state[0], i = False, j + 2
        elif line.startswith("/*", i):
            state[0], i = True, i + 2
        elif line.startswith("//", i):
            break
        elif line[i] in "\"'":
            q, i = line[i], i + 1
            while i < len(line) and line[i] != q:
                i += 2 if line[i] == "\\" else 1
            i += 1
            out.append(" ")
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    state, depth, start, sig, res = [False], 0, None, 0, []
    for no, raw in enumerate(lines, 1):
        code = strip(raw, state)
        if depth == 0 and code.strip() and not code.startswith((" ", "#", "}")) and sig == 0:
            sig = no  # a top-level declaration starts here
        for ch in code:
            if ch == "{":
                if depth == 0:
                    head = " ".join(strip(l, [False]) for l in lines[sig - 1 : no]) if sig else ""
                    start = sig if re.search(r"\)\s*(__attribute__\(\(.*\)\)\s*)?\{\s*$", head.split("=")[-1]) and "=" not in head.split("(")[0] else None
                    name = re.findall(r"(\w+)\s*\(", head)
                    fname = name[0] if name else "?"
                    if name and name[0] == "__attribute__" and len(name) > 2:
                        fname = name[2]
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    if start:
                        res.append((no - start + 1, path, start, fname))
                    start = None
        if depth == 0 and (code.rstrip().endswith((";", "}")) or not code.strip()):
            sig = 0
    return res


def main(argv):
    limit, top, files = 80, 5, []
    it = iter(argv)
    for a in it:
        if a == "--max":
            limit = int(next(it))
        elif a == "--top":
            top = int(next(it))
        else:
            files.append(a)
    allf = sorted((f for p in files for f in functions(p)), reverse=True)
    for n, p, ln, name in allf[:top]:
        print(f"{n:5d} {p}:{ln} {name}")
    over = [f for f in allf if f[0] > limit]
    print(f"{len(allf)} functions, {len(over)} over {limit} lines")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
