# CRIU's source from Debian, any version >= the minimum Debian offers, verified from Debian's archive
# key down to the tarball. Sourced by scripts/setup.sh (the caller defines say() and die()).
#
#   criu_fetch_source CACHE_DIR MIN_VERSION [UPSTREAM_VERSION]
#     prints "VERSION TARBALL": the newest criu source package in Debian's unstable and testing
#     (FERRY_CRIU_SUITES) whose upstream version is at least MIN_VERSION (or exactly UPSTREAM_VERSION),
#     its .orig tarball downloaded into CACHE_DIR/src and checked.
#
# What is verified, and against what (a chain from the key on this machine to the tarball):
#   1. the suite's InRelease is signed by a key of Debian's archive keyring
#      (gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg); apt-get update checks this too,
#      but the hashes below are read from gpgv's verified output, not from apt's word;
#   2. the source index (main/source/Sources) has the SHA-256 that InRelease lists for it;
#   3. the .dsc and the .orig tarball have the SHA-256 that the index lists for them;
#   4. the tarball has the SHA-256 that the .dsc itself lists under Checksums-Sha256.
# The .dsc's own OpenPGP signature is the uploader's (a Debian developer's key, in the debian-keyring
# package, not in the archive keyring), so it is not checked with gpgv: steps 1-3 already tie the .dsc
# to the archive's signature, which is the chain apt itself trusts for every package it installs.
# A verified tarball is remembered (CACHE_DIR/src/criu-verified) and reused offline while its SHA-256
# still matches.

DEBIAN_KEYRING="${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}"
# The same variable as scripts/build-rootfs.sh: the mirror's host, Debian's archive under /debian.
DEBIAN_ARCHIVE="${FERRY_DEBIAN_MIRROR:-http://deb.debian.org}/debian"
FERRY_CRIU_SUITES="${FERRY_CRIU_SUITES:-unstable testing}"

sha256_of() {
  local s
  s="$(sha256sum "$1")" || return 1
  printf '%s\n' "${s%% *}"
}

# criu_sources_entries: a Sources index on stdin; for each `Package: criu` stanza prints
#   V VERSION DIRECTORY
#   H VERSION SHA256 SIZE FILE      (one per Checksums-Sha256 entry)
criu_sources_entries() {
  awk '
    function flush() { if (pkg == "criu" && ver != "") { print "V", ver, dir; for (i = 1; i <= n; i++) print "H", ver, h[i] } pkg = ""; ver = ""; dir = ""; n = 0; insha = 0 }
    /^$/ { flush(); next }
    /^Package:/ { pkg = $2; insha = 0; next }
    /^Version:/ { ver = $2; insha = 0; next }
    /^Directory:/ { dir = $2; insha = 0; next }
    /^Checksums-Sha256:/ { insha = 1; next }
    /^[ \t]/ { if (insha && NF == 3) h[++n] = $1 " " $2 " " $3; next }
    { insha = 0 }
    END { flush() }
  '
}

# upstream_of VERSION: 1:4.2.1-1 -> 4.2.1 (no epoch, no Debian revision).
upstream_of() {
  local v="${1#*:}"
  printf '%s\n' "${v%-*}"
}

# pick_criu_version MIN [WANT]: "V VERSION DIRECTORY" lines on stdin; prints the newest VERSION whose
# upstream version is >= MIN (or equals WANT when given), with its DIRECTORY; nothing when none is.
pick_criu_version() {
  local min="$1" want="${2:-}" tag v d best="" bestdir="" up
  while read -r tag v d; do
    [ "$tag" = V ] || continue
    up="$(upstream_of "$v")"
    if [ -n "$want" ]; then
      [ "$up" = "$want" ] || continue
    else
      dpkg --compare-versions "$up" ge "$min" || continue
    fi
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best="$v" bestdir="$d"; fi
  done
  [ -n "$best" ] && printf '%s %s\n' "$best" "$bestdir"
}

# listed_sha256 FILE NAME: the SHA-256 a Release/InRelease text or a .dsc lists for NAME (the first
# 64-hex-digit hash on a "HASH SIZE NAME" line).
listed_sha256() {
  awk -v name="$2" '$3 == name && length($1) == 64 && $1 ~ /^[0-9a-f]+$/ { print $1; exit }' "$1"
}

# verify_sha256 FILE EXPECTED WHAT: dies naming WHAT unless FILE has that SHA-256.
verify_sha256() {
  local got
  [ -n "$2" ] || die "no SHA-256 listed for $3"
  got="$(sha256_of "$1")" || die "cannot read $1"
  [ "$got" = "$2" ] || die "$3: SHA-256 mismatch ($1 has $got, expected $2)"
}

# A subshell: its temporary directory goes with its EXIT trap, and a die() ends only this.
criu_fetch_source() (
  local cache="$1" min="$2" want="${3:-}"
  local apt="$cache/apt" src="$cache/src" work s inrel idx entries pick version dir up orig dsc sha
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$src"

  # A tarball verified before, still the same bytes: no network needed.
  if [ -f "$src/criu-verified" ]; then
    read -r version orig sha <"$src/criu-verified" || true
    up="$(upstream_of "${version:-0}")"
    if [ -n "${orig:-}" ] && [ -f "$src/$orig" ] && [ "$(sha256_of "$src/$orig")" = "$sha" ] \
      && { if [ -n "$want" ]; then [ "$up" = "$want" ]; else dpkg --compare-versions "$up" ge "$min"; fi; }; then
      printf '%s %s\n' "$version" "$src/$orig"
      return 0
    fi
  fi

  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  : >"$apt/sources.list"
  for s in $FERRY_CRIU_SUITES; do
    printf 'deb-src [signed-by=%s] %s %s main\n' "$DEBIAN_KEYRING" "$DEBIAN_ARCHIVE" "$s" >>"$apt/sources.list"
  done
  local aptopts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt")
  apt-get "${aptopts[@]}" update -qq || die "could not read Debian's source indexes ($FERRY_CRIU_SUITES) from $DEBIAN_ARCHIVE"

  entries="$work/entries"
  : >"$entries"
  for s in $FERRY_CRIU_SUITES; do
    inrel="$(compgen -G "$apt/lists/*_dists_${s}_InRelease" | head -n1)"
    [ -n "$inrel" ] || die "apt kept no InRelease for $s"
    gpgv --keyring "$DEBIAN_KEYRING" --output "$work/$s.release" "$inrel" 2>"$work/$s.gpgv" \
      || die "the InRelease of Debian $s has no good signature by a key of $DEBIAN_KEYRING: $(tail -n1 "$work/$s.gpgv")"
    idx="$(compgen -G "$apt/lists/*_dists_${s}_main_source_Sources*" | head -n1)"
    [ -n "$idx" ] || die "apt kept no source index for $s"
    # apt may keep its indexes compressed (lz4, gz, xz); its helper reads any of them.
    /usr/lib/apt/apt-helper cat-file "$idx" >"$work/$s.Sources" || die "cannot read $idx"
    verify_sha256 "$work/$s.Sources" "$(listed_sha256 "$work/$s.release" main/source/Sources)" "Debian $s's source index (main/source/Sources, against its signed InRelease)"
    criu_sources_entries <"$work/$s.Sources" >>"$entries"
  done

  pick="$(pick_criu_version "$min" "$want" <"$entries")"
  if [ -z "$pick" ]; then
    local asked=">= $min"
    [ -z "$want" ] || asked="$want"
    die "Debian ($FERRY_CRIU_SUITES) offers no criu source $asked: it has $(awk '$1 == "V" && !seen[$2]++ { printf "%s%s", sep, $2; sep = ", " }' "$entries")"
  fi
  version="${pick%% *}" dir="${pick#* }" up="$(upstream_of "$version")"
  dsc="criu_${version#*:}.dsc"
  orig="$(awk -v v="$version" -v p="criu_${up}.orig.tar." '$1 == "H" && $2 == v && index($5, p) == 1 { print $5; exit }' "$entries")"
  [ -n "$orig" ] || die "criu $version lists no .orig tarball"
  for f in "$dsc" "$orig"; do
    curl -fsS --retry 3 --max-time 600 -o "$work/$f" "$DEBIAN_ARCHIVE/$dir/$f" || die "could not download $DEBIAN_ARCHIVE/$dir/$f"
    verify_sha256 "$work/$f" "$(awk -v v="$version" -v f="$f" '$1 == "H" && $2 == v && $5 == f { print $3; exit }' "$entries")" "$f (against the signed source index)"
  done
  verify_sha256 "$work/$orig" "$(listed_sha256 "$work/$dsc" "$orig")" "$orig (against the Checksums-Sha256 of $dsc)"
  mv "$work/$orig" "$src/$orig"
  mv "$work/$dsc" "$src/$dsc"
  printf '%s %s %s\n' "$version" "$orig" "$(sha256_of "$src/$orig")" >"$src/criu-verified"
  printf '%s %s\n' "$version" "$src/$orig"
)
