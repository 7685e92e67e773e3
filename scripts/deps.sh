#!/bin/sh
# scripts/deps.sh: install what building, testing and benchmarking need,
# from Debian packages. Idempotent; needs root (or sudo) only when
# something is missing. Sourced by scripts/test and scripts/bench-report.
TC_DEB_PACKAGES="meson ninja-build gcc g++ pkg-config python3 libbenchmark-dev \
libjemalloc-dev libmimalloc-dev libgc-dev golang-go sqlite3 redis-server redis-tools git"

tc_missing_packages() {
    missing=""
    for p in $TC_DEB_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    echo "$missing"
}

tc_install_deps() {
    missing=$(tc_missing_packages)
    [ -z "$missing" ] && return 0
    echo "installing:$missing"
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else
        echo "error: missing Debian packages:$missing; run as root: apt-get install -y$missing" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing >/dev/null
}
