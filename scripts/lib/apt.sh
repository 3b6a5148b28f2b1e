# Installs the Debian packages that are not installed yet, saying what it does; shared by
# scripts/setup.sh and scripts/qemu-setup.sh (sourced; the caller defines say() and die()).
#   ensure_packages PKG...
ensure_packages() {
  local p missing=()
  for p in "$@"; do
    # Compared whole, not piped to `grep -q`: under pipefail its early exit can fail the pipe.
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt packages present ($#)"
    return 0
  fi
  say "installing apt packages: ${missing[*]}"
  apt-get update -qq || die "apt-get update failed: Debian's package mirror is unreachable"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
}
