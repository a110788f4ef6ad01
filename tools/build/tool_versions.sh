#!/usr/bin/env bash
# The version of every tool the evidence rests on, one per line, the SHA-256 of
# each tool's executable (a version string alone does not tell two builds of a
# tool apart), the Debian package versions of the build's PKGS (passed as
# arguments), the guest kernels the end-to-end runs booted, and the system.
# Written into the evidence archive by `make evidence` (tool-versions.txt).
#
# Exit status 1 when a tool is absent or prints no version: the archive would
# then claim evidence from a tool nobody can identify, so the recipe stops.
# The list is the tools of docs/safety/tool-confidence.md; tests/gate/selftest.sh
# (test_evidence_archive) checks that the archive names each with its version
# and that a missing tool stops the recipe.
#
# usage: tool_versions.sh [--kernels FILE...] [--] PKG...
set -uo pipefail
kernels=()
if [ "${1:-}" = --kernels ]; then
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do kernels+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
fi
missing=0
bins=()
# v LABEL PATTERN COMMAND...: the first line of the command's output that
# matches PATTERN (an extended regex; '.' for any), or "absent".
v() {
    local label=$1 pat=$2; shift 2
    local out exe
    out=$("$@" 2>&1 | grep -v '^[[:space:]]*$' | grep -E -m1 -- "$pat") || true
    case $1 in
        sh | pkg-config) exe=-;; # a library or a file, not a program: no executable to hash
        python3) exe=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true);;
        *) exe=$(command -v "$1" 2>/dev/null || true);;
    esac
    if [ -z "$exe" ] || [ -z "$out" ]; then
        printf '%-20s %s\n' "$label" "absent"
        missing=$((missing + 1))
        return
    fi
    printf '%-20s %s\n' "$label" "$out"
    [ "$exe" = - ] || bins+=("$label $exe")
}
echo "# tools"
v gcc . gcc --version
v gcc-aarch64 . aarch64-linux-gnu-gcc --version
v gcc-s390x . s390x-linux-gnu-gcc --version
v clang . clang --version
v clang-tidy '[Vv]ersion' clang-tidy --version
v cppcheck . cppcheck --version
v cppcheck-misra . sh -c 'f=$(ls /usr/share/cppcheck/addons/misra.py /usr/lib/x86_64-linux-gnu/cppcheck/addons/misra.py 2>/dev/null | head -n1); [ -n "$f" ] && echo "$f sha256 $(sha256sum "$f" | cut -c1-64)"'
v lcov . lcov --version
v gcov . gcov --version
v valgrind . valgrind --version
v frama-c . frama-c -version
v why3 . why3 --version
v z3 . z3 --version
v cvc4 '[Vv]ersion' cvc4 --version
v doxygen . doxygen --version
v graphviz-dot . dot -V
v python3 . python3 --version
v qemu-system-x86_64 . qemu-system-x86_64 --version
v qemu-system-aarch64 . qemu-system-aarch64 --version
v qemu-aarch64 . qemu-aarch64 --version
v qemu-s390x . qemu-s390x --version
v dtc . dtc --version
v iasl '[Vv]ersion' iasl -v
v chromium '^Chromium' chromium --version
v make . make --version
v bash . bash --version
v binutils . ld --version
v cmocka . pkg-config --modversion cmocka
v libseccomp . pkg-config --modversion libseccomp
echo "# compiler configuration"
gcc -v 2>&1 | grep -E '^(Target|Configured with|Thread model|gcc version)' | sed 's/^/gcc: /'
echo "# tool executables (sha256)"
for b in "${bins[@]}"; do
    label=${b%% *}; exe=${b#* }
    real=$(readlink -f "$exe")
    printf '%-20s %s %s\n' "$label" "$(sha256sum "$real" | cut -c1-64)" "$real"
done
echo "# guest kernels of the end-to-end runs"
if [ ${#kernels[@]} = 0 ]; then echo "none (no e2e stage in this run)"; fi
for k in "${kernels[@]}"; do printf '%s: %s\n' "$k" "$(cat "$k" 2>/dev/null || echo unreadable)"; done
echo "# Debian packages"
for p in "$@"; do
    printf '%-28s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo absent)"
done
echo "# system"
printf '%-20s %s\n' kernel "$(uname -srm)"
printf '%-20s %s\n' os "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
if [ $missing != 0 ]; then
    echo "tool_versions: $missing tools absent or without a version" >&2
    exit 1
fi
