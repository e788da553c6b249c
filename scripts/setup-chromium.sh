#!/usr/bin/env bash
# Install the browser the browser tests drive: the distribution's own Chromium (Debian's
# `chromium` package), so no test tool ever downloads one. playwright-core starts it
# headless with WebGPU on the machine's Vulkan driver (lavapipe, from setup-webgpu.sh).
#
# - Non-Linux or no apt-get: says where to point KILN_CHROMIUM and exits 0 when one is set.
# - Idempotent; prints a single line when Chromium is already installed.
# - Non-interactive: safe with CI=true and no stdin.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { echo "setup-chromium: $*"; }
die() { echo "setup-chromium: error: $*" >&2; exit 1; }

if [[ -n "${KILN_CHROMIUM:-}" ]]; then
  [[ -x "$KILN_CHROMIUM" ]] || die "KILN_CHROMIUM=$KILN_CHROMIUM is not an executable"
  log "using KILN_CHROMIUM=$KILN_CHROMIUM"
  exit 0
fi

if [[ -x /usr/bin/chromium ]]; then
  log "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) at /usr/bin/chromium"
  exit 0
fi

[[ "$(uname -s)" == Linux ]] || die "install Chromium and set KILN_CHROMIUM to its executable"
command -v apt-get >/dev/null 2>&1 || die "no apt-get; install Chromium and set KILN_CHROMIUM to its executable"

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "not root and sudo is not available"
  SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
fi
apt_get() {
  "${SUDO[@]}" apt-get -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null
}

log "apt-get update"
apt_get update -qq >/dev/null
log "installing chromium"
apt_get install -y -qq --no-install-recommends chromium >/dev/null
[[ -x /usr/bin/chromium ]] || die "chromium installed but /usr/bin/chromium is missing"
log "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) at /usr/bin/chromium"
