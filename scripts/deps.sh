#!/bin/sh
# scripts/deps.sh: the one list of Debian packages that building, testing,
# benchmarking and the report's pictures need, and tc_install_deps, which
# installs the missing ones (apt-get, through sudo when not root).
# Sourced by scripts/test and scripts/bench-report, after their option
# parsing: --help installs nothing.
TC_DEB_PACKAGES="meson ninja-build gcc g++ pkg-config python3 python3-matplotlib valgrind \
libbenchmark-dev libjemalloc-dev libmimalloc-dev libgc-dev golang-go sqlite3 redis-server \
redis-tools git clang libclang-rt-dev"

tc_missing_packages() {
    missing=""
    for p in $TC_DEB_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    echo "$missing"
}

# Returns 0 when everything is installed, 2 (a set-up error) when it
# cannot be: no dpkg, no root and no sudo, or apt-get failed (its output
# is printed then).
tc_install_deps() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "error: not a Debian system (no dpkg-query); install by hand: $TC_DEB_PACKAGES" >&2
        return 2
    fi
    missing=$(tc_missing_packages)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: missing Debian packages:$missing; as root run: apt-get install -y$missing" >&2
        return 2
    fi
    echo "installing Debian packages:$missing" >&2
    log=$(mktemp)
    if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
           $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "error: apt-get could not install:$missing" >&2
        return 2
    fi
    rm -f "$log"
    return 0
}
