# The two things Debian 12 does not give Ferry: Node.js >= 20.10 (Debian 12 ships 18) and Terraform
# (Debian ships none; OpenTofu does as well). Sourced by scripts/setup.sh, which checks them before
# anything else; the caller defines say() and die().
#   require_node        Node.js >= NODE_MIN on PATH, else installed from NodeSource's Debian repository
#   require_terraform   terraform >= TERRAFORM_MIN (or OpenTofu's tofu, linked as terraform), else
#                       installed from HashiCorp's Debian repository
# Where a vendor's repository cannot be reached (or this is not root on an apt system), they stop with
# one message saying what is missing and how to install it. The version checks use bash alone.

NODE_MIN="${NODE_MIN:-20.10}"       # package.json's engines
TERRAFORM_MIN="${TERRAFORM_MIN:-1.5}" # terraform/local and terraform/qemu (the clouds' modules want 1.9)
TOFU_MIN="${TOFU_MIN:-1.6}"
# Where a found `tofu` is linked as `terraform` (Ferry runs `terraform`).
FERRY_TOOL_LINK_DIR="${FERRY_TOOL_LINK_DIR:-/usr/local/bin}"
# The vendors' repositories: keys and apt sources (Debian 12 "bookworm").
NODESOURCE_KEY_URL="${NODESOURCE_KEY_URL:-https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key}"
NODESOURCE_REPO="${NODESOURCE_REPO:-https://deb.nodesource.com/node_20.x nodistro main}"
HASHICORP_KEY_URL="${HASHICORP_KEY_URL:-https://apt.releases.hashicorp.com/gpg}"
HASHICORP_REPO="${HASHICORP_REPO:-https://apt.releases.hashicorp.com bookworm main}"

# version_at_least HAVE WANT: dotted numbers compared field by field (1.10 > 1.9); anything after
# the numbers (-rc1, +build) is ignored.
version_at_least() {
  local have="${1#v}" want="$2" i h w
  have="${have%%[!0-9.]*}"
  IFS=. read -r -a H <<<"$have"
  IFS=. read -r -a W <<<"$want"
  for ((i = 0; i < ${#W[@]}; i++)); do
    h="${H[i]:-0}" w="${W[i]:-0}"
    [ -n "$h" ] || h=0
    ((10#$h > 10#$w)) && return 0
    ((10#$h < 10#$w)) && return 1
  done
  return 0
}

# node_version: `node --version` (v20.20.2), or nothing when there is no node.
node_version() {
  command -v node >/dev/null 2>&1 || return 0
  node --version 2>/dev/null || true
}

# terraform_version BIN: the first version number `BIN version` prints (Terraform v1.11.4, OpenTofu v1.8.0).
terraform_version() {
  local line
  line="$("$1" version 2>/dev/null || true)"
  line="${line%%$'\n'*}"
  [[ "$line" =~ v([0-9]+\.[0-9]+(\.[0-9]+)?) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# can_install_from URL: root, apt-get and curl are here, and the vendor's key can be fetched.
can_install_from() {
  [ "$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 \
    && curl -fsS --max-time 15 -o /dev/null "$1" 2>/dev/null
}

# add_vendor_repo NAME KEY_URL "URL SUITE COMPONENT": the vendor's key (ASCII-armoured, which apt
# reads from a .asc signed-by file) and an apt source restricted to it, then an update.
add_vendor_repo() {
  local name="$1" key_url="$2" repo="$3"
  install -d -m 0755 /etc/apt/keyrings
  curl -fsS --max-time 30 -o "/etc/apt/keyrings/$name.asc" "$key_url" || die "could not download $name's key from $key_url"
  printf 'deb [signed-by=/etc/apt/keyrings/%s.asc] %s\n' "$name" "$repo" >"/etc/apt/sources.list.d/$name.list"
  apt-get update -qq || die "apt-get update failed after adding $name's repository ($repo)"
}

require_node() {
  local v
  v="$(node_version)"
  if [ -n "$v" ] && version_at_least "$v" "$NODE_MIN"; then
    say "node $v present at $(command -v node)"
    return 0
  fi
  if can_install_from "$NODESOURCE_KEY_URL"; then
    say "installing Node.js 20 from NodeSource's Debian repository (found ${v:-no node})"
    add_vendor_repo nodesource "$NODESOURCE_KEY_URL" "$NODESOURCE_REPO"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null || die "apt-get install nodejs (NodeSource) failed"
    hash -r
    v="$(node_version)"
    if [ -n "$v" ] && version_at_least "$v" "$NODE_MIN"; then
      say "node $v installed"
      return 0
    fi
  fi
  die "Node.js $NODE_MIN or newer is needed, found ${v:-none}${v:+ at $(command -v node)} (Debian 12's own nodejs is 18), and NodeSource's repository (${NODESOURCE_KEY_URL%%/gpgkey*}) cannot be reached from here to install it. Install Node.js 20 or newer yourself (https://nodejs.org/en/download, or NodeSource: https://github.com/nodesource/distributions), make it the first node on PATH, and run scripts/setup.sh again."
}

require_terraform() {
  local v bin
  if command -v terraform >/dev/null 2>&1; then
    v="$(terraform_version terraform)"
    if [ -n "$v" ] && version_at_least "$v" "$TERRAFORM_MIN"; then
      say "terraform $v present at $(command -v terraform)"
      return 0
    fi
  fi
  if bin="$(command -v tofu 2>/dev/null)" && [ -n "$bin" ]; then
    v="$(terraform_version "$bin")"
    if [ -n "$v" ] && version_at_least "$v" "$TOFU_MIN" && [ ! -e "$FERRY_TOOL_LINK_DIR/terraform" ]; then
      # Ferry runs `terraform`; OpenTofu takes the same commands and modules.
      ln -s "$bin" "$FERRY_TOOL_LINK_DIR/terraform" || die "could not link $FERRY_TOOL_LINK_DIR/terraform to OpenTofu's $bin"
      hash -r
      say "OpenTofu $v at $bin, linked as $FERRY_TOOL_LINK_DIR/terraform"
      return 0
    fi
  fi
  if can_install_from "$HASHICORP_KEY_URL"; then
    say "installing Terraform from HashiCorp's Debian repository"
    add_vendor_repo hashicorp "$HASHICORP_KEY_URL" "$HASHICORP_REPO"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq terraform >/dev/null || die "apt-get install terraform (HashiCorp) failed"
    hash -r
    v="$(terraform_version terraform)"
    if [ -n "$v" ] && version_at_least "$v" "$TERRAFORM_MIN"; then
      say "terraform $v installed"
      return 0
    fi
  fi
  die "Terraform $TERRAFORM_MIN or newer (or OpenTofu $TOFU_MIN or newer) is needed, found ${v:-none}, and HashiCorp's repository (${HASHICORP_KEY_URL%/gpg}) cannot be reached from here to install it. Install Terraform (https://developer.hashicorp.com/terraform/install) or OpenTofu (https://opentofu.org/docs/intro/install/), put it on PATH, and run scripts/setup.sh again."
}
