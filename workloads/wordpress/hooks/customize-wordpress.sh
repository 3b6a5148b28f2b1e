#!/bin/sh
# mmdebstrap customize hook of the wordpress rootfs (scripts/build-rootfs.sh): runs on the build
# host after the packages are installed, with the rootfs as $1.
set -eu
root=$1
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/hooks/lib.sh"

base_files "$root"
overlay "$here/web" "$root"

# Apache runs as www-data (33, fixed by base-passwd) from the start, not as root dropping
# privileges: the container needs no CAP_SETUID. So what it writes belongs to www-data.
install -d -o 33 -g 33 -m 0755 "$root/var/log/apache2" "$root/run/apache2" "$root/run/lock/apache2" \
  "$root/var/log/ferry"
chown -R 33:33 "$root/var/log/apache2"
# The generated admin password (wp-install.php): not under wp-content, which Apache serves.
install -d -o 33 -g 33 -m 0700 "$root/var/lib/ferry"

# mod_php needs the prefork MPM; the site and settings above replace Debian's default site.
chroot "$root" a2dismod -q -f mpm_event >/dev/null
chroot "$root" a2enmod -q mpm_prefork php8.2 >/dev/null
chroot "$root" a2dissite -q 000-default >/dev/null
chroot "$root" a2disconf -q other-vhosts-access-log serve-cgi-bin >/dev/null
chroot "$root" a2ensite -q ferry-wordpress >/dev/null
chroot "$root" a2enconf -q ferry >/dev/null
# A broken configuration fails the build, not the first start.
WP_PORT=8081 chroot "$root" apache2ctl -t

clean_run "$root" apache2
trim "$root"
