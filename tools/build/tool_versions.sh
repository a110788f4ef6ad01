#!/usr/bin/env bash
# The version of every tool the evidence rests on, one per line, and the Debian
# package versions of the build's PKGS (passed as arguments). Written into the
# evidence archive by `make evidence`.
# usage: tool_versions.sh PKG...
set -uo pipefail
v() { # LABEL COMMAND...: the first line the command prints, or "absent"
    local label=$1; shift
    local out
    out=$("$@" 2>&1 | head -n 1) || true
    printf '%-16s %s\n' "$label" "${out:-absent}"
}
echo "# tools"
v gcc gcc --version
v clang clang --version
v cppcheck cppcheck --version
v clang-tidy sh -c 'clang-tidy --version | grep -i version'
v lcov lcov --version
v gcov gcov --version
v valgrind valgrind --version
v frama-c frama-c -version
v why3 why3 --version
v z3 z3 --version
v cvc4 sh -c 'cvc4 --version | grep -i version'
v doxygen doxygen --version
v python3 python3 --version
v qemu-x86_64 qemu-system-x86_64 --version
v make make --version
v binutils ld --version
echo "# Debian packages"
for p in "$@"; do
    printf '%-28s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo absent)"
done
echo "# system"
printf '%-16s %s\n' kernel "$(uname -srm)"
printf '%-16s %s\n' os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
