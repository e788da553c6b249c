#!/usr/bin/env bash
# Make WebGPU (dawn.node from the `webgpu` npm package) usable on a Linux
# machine without a GPU, through Mesa's lavapipe (llvmpipe) Vulkan driver.
#
# - Non-Linux: prints one line and exits 0.
# - Linux: if mesa-vulkan-drivers >= 24 (lavapipe) and libvulkan1 are not both
#   installed, adds the distribution's backports suite (mirror read from the
#   machine's own apt sources at run time) and installs them from it.
# - Idempotent; prints a single line when everything is already in place.
# - Non-interactive: safe with CI=true and no stdin.
set -euo pipefail

MIN_MESA=24
DEB822_FILE=/etc/apt/sources.list.d/debian.sources
LEGACY_FILE=/etc/apt/sources.list
ICD_DIR=/usr/share/vulkan/icd.d
export DEBIAN_FRONTEND=noninteractive

log() { echo "setup-webgpu: $*"; }
die() { echo "setup-webgpu: error: $*" >&2; exit 1; }

if [[ "$(uname -s)" != Linux ]]; then
  echo "setup-webgpu: $(uname -s) uses its native WebGPU backend; nothing to do."
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "not root and sudo is not available"
  SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
fi

pkg_version() { # prints the installed version of $1, or nothing
  dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null |
    awk '$1 == "ii" { print $2 }' || true
}

lvp_icd() { compgen -G "$ICD_DIR/lvp_icd*.json" | head -n1 || true; }

satisfied() {
  local mesa vk
  mesa="$(pkg_version mesa-vulkan-drivers)"
  vk="$(pkg_version libvulkan1)"
  [[ -n "$mesa" && -n "$vk" && -n "$(lvp_icd)" ]] &&
    dpkg --compare-versions "$mesa" ge "${MIN_MESA}~"
}

report() {
  log "mesa-vulkan-drivers $(pkg_version mesa-vulkan-drivers), libvulkan1 $(pkg_version libvulkan1), lavapipe ICD $(lvp_icd)"
}

if satisfied; then
  report
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "no apt-get; install Mesa >= $MIN_MESA lavapipe (Vulkan) and the Vulkan loader by hand"

# shellcheck disable=SC1091
. /etc/os-release
CODENAME="${VERSION_CODENAME:-}"
[[ -n "$CODENAME" ]] || die "cannot read VERSION_CODENAME from /etc/os-release"
BACKPORTS="${CODENAME}-backports"

apt_get() { "${SUDO[@]}" apt-get -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null; }

# Candidate version of $1 as apt currently sees it (optionally restricted by -t).
candidate() {
  local pkg="$1"; shift
  apt-cache "$@" policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'
}

# Is the backports suite already configured in any apt source?
backports_configured() {
  grep -rqsE "^[^#]*([[:space:]]|^)${BACKPORTS}([[:space:]]|$)" \
    "$LEGACY_FILE" /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null
}

# Prints "URIS<TAB>COMPONENTS<TAB>SIGNED_BY" for the main suite of this release,
# read from the machine's own apt configuration.
main_source() {
  if [[ -f "$DEB822_FILE" ]]; then
    awk -v suite="$CODENAME" '
      function flush() {
        if (uris != "" && enabled != "no" && types ~ /(^|[ \t])deb([ \t]|$)/) {
          n = split(suites, s, /[ \t]+/)
          for (i = 1; i <= n; i++) if (s[i] == suite) { print uris "\t" comps "\t" signed; found = 1; exit }
        }
        uris = suites = comps = signed = types = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        line = $0; key = line; sub(/:.*/, "", key); val = line; sub(/^[^:]*:[ \t]*/, "", val)
        key = tolower(key)
        if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") signed = val
        else if (key == "types") types = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { if (!found) flush() }
    ' "$DEB822_FILE"
  elif [[ -f "$LEGACY_FILE" ]]; then
    # deb [options] URI suite component...
    awk -v suite="$CODENAME" '
      /^[ \t]*deb[ \t]/ {
        opts = ""; i = 2
        if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
        uri = $i; s = $(i + 1); comps = ""
        for (j = i + 2; j <= NF; j++) comps = comps (comps == "" ? "" : " ") $j
        signed = ""
        if (match(opts, /signed-by=[^] \t]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
        if (s == suite) { print uri "\t" comps "\t" signed; exit }
      }
    ' "$LEGACY_FILE"
  fi
}

add_backports() {
  local src uris comps signed target="/etc/apt/sources.list.d/${BACKPORTS}.sources"
  src="$(main_source)"
  [[ -n "$src" ]] || die "could not find the '$CODENAME' suite in $DEB822_FILE or $LEGACY_FILE"
  IFS=$'\t' read -r uris comps signed <<<"$src"
  [[ -n "$uris" ]] || die "no URIs for suite '$CODENAME' in the apt sources"
  log "adding apt suite $BACKPORTS ($target)"
  {
    echo "Types: deb"
    echo "URIs: $uris"
    echo "Suites: $BACKPORTS"
    echo "Components: ${comps:-main}"
    if [[ -n "$signed" ]]; then echo "Signed-By: $signed"; fi
  } | "${SUDO[@]}" tee "$target" >/dev/null
}

need_update=0
if [[ -z "$(candidate mesa-vulkan-drivers)" ]]; then need_update=1; fi

mesa_ok_in_main=0
if [[ $need_update -eq 1 ]]; then
  log "apt-get update"
  apt_get update -qq >/dev/null
fi
main_cand="$(candidate mesa-vulkan-drivers)"
if [[ -n "$main_cand" ]] && dpkg --compare-versions "$main_cand" ge "${MIN_MESA}~"; then
  mesa_ok_in_main=1
fi

target_args=()
if [[ $mesa_ok_in_main -eq 0 ]]; then
  if [[ "${ID:-}" != debian ]]; then
    die "mesa-vulkan-drivers candidate is '${main_cand:-none}' (< $MIN_MESA) and backports are only set up automatically on Debian"
  fi
  if ! backports_configured; then
    add_backports
  fi
  if [[ -z "$(candidate mesa-vulkan-drivers -t "$BACKPORTS")" ]] ||
     ! apt-cache policy mesa-vulkan-drivers 2>/dev/null | grep -q "[[:space:]]${BACKPORTS}/"; then
    log "apt-get update"
    apt_get update -qq >/dev/null
  fi
  target_args=(-t "$BACKPORTS")
fi

log "installing mesa-vulkan-drivers libvulkan1 ${target_args[*]}"
apt_get install -y -qq --no-install-recommends "${target_args[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null

if ! satisfied; then
  die "lavapipe >= $MIN_MESA still missing after install (mesa-vulkan-drivers: '$(pkg_version mesa-vulkan-drivers)', ICD: '$(lvp_icd)')"
fi
report
