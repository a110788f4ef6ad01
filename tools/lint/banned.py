#!/usr/bin/env python3
"""Banned-call and core-purity source checks for safevdev.

banned : no assert/abort/exit/longjmp/setjmp (and their variants) anywhere in
         src/. The single exception: a shim's main() may end the process with
         exit()/_exit()/_Exit() after cleanup. "A shim's main" is recognised
         structurally: the call must lie inside the body of a function named
         `main` in a file under src/shim/. Anything else fails.
purity : src/core uses no heap, no I/O, no syscalls, no libc but
         memcpy/memset/memcmp, includes only freestanding headers plus
         <string.h>, and has no mutable static storage.

Comments and string/char literals are blanked first so that a word in a
comment ("never abort") is not a finding. Output: file:line: id: message,
one per finding, then a count; exit status 1 if any finding.
"""
import os
import re
import sys

BANNED_ALWAYS = {
    "assert", "abort", "longjmp", "siglongjmp", "_longjmp", "setjmp", "sigsetjmp",
    "_setjmp", "__builtin_trap", "__builtin_unreachable", "quick_exit", "atexit",
    "at_quick_exit", "raise",
}
BANNED_EXCEPT_MAIN = {"exit", "_exit", "_Exit"}
BANNED_HEADERS = {"assert.h", "setjmp.h"}

CORE_ALLOWED_HEADERS = {"stdint.h", "stdbool.h", "stddef.h", "string.h", "limits.h", "stdalign.h"}
CORE_ALLOWED_LIBC = {"memcpy", "memset", "memcmp"}
# Library functions the core must not call (a non-exhaustive list of the usual
# suspects; the object-level `make purity` check catches anything that links).
CORE_BANNED_CALLS = {
    "malloc", "calloc", "realloc", "free", "aligned_alloc", "posix_memalign", "alloca",
    "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf", "vsnprintf", "puts",
    "fputs", "putchar", "perror", "fopen", "fclose", "fread", "fwrite", "open", "close",
    "read", "write", "ioctl", "mmap", "munmap", "getrandom", "rand", "srand", "random",
    "time", "clock_gettime", "gettimeofday", "sleep", "usleep", "nanosleep", "strlen",
    "strcpy", "strncpy", "strcat", "strcmp", "strncmp", "strtol", "strtoul", "strtoull",
    "atoi", "memmove", "syscall", "pthread_mutex_lock", "getenv", "errno",
}


def strip(text):
    """Blank comments and string/char literals, keep newlines and offsets."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def main_body_ranges(code):
    """(start, end) offsets of the body of every function named main."""
    ranges = []
    for m in re.finditer(r"\bmain\s*\([^;{)]*\)\s*\{", code):
        start = m.end() - 1
        depth = 0
        for j in range(start, len(code)):
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
                if depth == 0:
                    ranges.append((start, j))
                    break
    return ranges


def check_banned(path, code, findings):
    in_shim = path.replace(os.sep, "/").startswith("src/shim/")
    mains = main_body_ranges(code) if in_shim else []
    for m in re.finditer(r"#\s*include\s*[<\"]([^>\"]+)[>\"]", code):
        if os.path.basename(m.group(1)) in BANNED_HEADERS:
            findings.append(f"{path}:{line_of(code, m.start())}: banned-header: <{m.group(1)}> is not allowed in src/")
    for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", code):
        name = m.group(1)
        if name in BANNED_ALWAYS:
            findings.append(f"{path}:{line_of(code, m.start())}: banned-call: {name}() is not allowed in src/")
        elif name in BANNED_EXCEPT_MAIN:
            if not any(a < m.start() < b for a, b in mains):
                findings.append(f"{path}:{line_of(code, m.start())}: banned-call: {name}() outside a shim's main()")


def check_purity(path, code, findings):
    for m in re.finditer(r"#\s*include\s*<([^>]+)>", code):
        if m.group(1) not in CORE_ALLOWED_HEADERS:
            findings.append(f"{path}:{line_of(code, m.start())}: core-include: <{m.group(1)}> is not a freestanding header")
    # A call (or errno): the name followed by '(' and not a member (. or ->).
    for m in re.finditer(r"(?<![.>\w])\s*\b([A-Za-z_][A-Za-z0-9_]*)\s*(\(|\b)", code):
        name = m.group(1)
        if m.group(2) != "(" and name != "errno":
            continue
        if name in CORE_BANNED_CALLS and name not in CORE_ALLOWED_LIBC:
            findings.append(f"{path}:{line_of(code, m.start())}: core-libc: {name} is not allowed in src/core")
    # Mutable static storage: `static` not followed by const (before the
    # declarator ends) and not a function (no '(' before '=' / ';' / '{').
    for m in re.finditer(r"\bstatic\b([^;{=(]*)([;{=(])", code):
        decl, end = m.group(1), m.group(2)
        if end in "({" or re.search(r"\bconst\b", decl) or re.match(r"\s*inline\b", decl):
            continue
        findings.append(f"{path}:{line_of(code, m.start())}: core-static: mutable static storage in src/core")


def main(argv):
    if len(argv) < 2 or argv[1] not in ("banned", "purity"):
        print("usage: banned.py banned|purity FILE...", file=sys.stderr)
        return 2
    mode, files = argv[1], argv[2:]
    findings = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            code = strip(f.read())
        (check_banned if mode == "banned" else check_purity)(path, code, findings)
    for line in findings:
        print(line)
    label = "banned-calls" if mode == "banned" else "core-purity-grep"
    print(f"{label}: {len(files)} files, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
