#!/usr/bin/env bash
# Installs what geoframe needs on a fresh Debian/Ubuntu machine, skipping what is there.
# Sourced by scripts/run-main-job.sh and scripts/run-tests.sh.
set -euo pipefail

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# PROJ (the proj crate binds the system library through proj-sys 0.23.1, which builds
# against Debian 12's PROJ 9.1 with bindgen, hence libclang).
need_apt=()
dpkg -s libproj-dev >/dev/null 2>&1 || need_apt+=(libproj-dev)
dpkg -s libclang-dev >/dev/null 2>&1 || need_apt+=(libclang-dev)
# GeoPackage files are SQLite databases (rusqlite links the system library).
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need_apt+=(libsqlite3-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
# The map examples write their text in DejaVu Sans.
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt+=(fonts-dejavu-core)
if [ "${GEOFRAME_NEED_PYTHON:-0}" = 1 ]; then
    command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
    python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
fi
# The run report's test looks at the page in a real browser (headless Chromium).
if [ "${GEOFRAME_NEED_CHROMIUM:-0}" = 1 ]; then
    command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# rustup puts cargo in ~/.cargo/bin, which a non-login shell (CI) may not have on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found. geoframe needs Rust 1.85 or newer (https://rustup.rs)." >&2
    exit 1
fi
