#!/bin/sh
# mmdebstrap customize hook of the mariadb rootfs (scripts/build-rootfs.sh): runs on the build
# host after the packages are installed, with the rootfs as $1.
set -eu
root=$1
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/hooks/lib.sh"

base_files "$root"
overlay "$here/db" "$root"

# A fixed uid, unlike the one adduser would pick: the deploy puts it in config.json's
# process.user, and the datadir in the tarball belongs to it. 999 as in MariaDB's own images.
add_system_user "$root" mysql 999 'MariaDB Server' /nonexistent

install -d -o 999 -g 999 -m 0750 "$root/var/lib/mysql"
install -d -o 999 -g 999 -m 0755 "$root/run/mysqld" "$root/var/log/mysql" "$root/var/log/ferry"

# The system tables, then the empty database WordPress installs into (the account and its
# password are set at each start by ferry-db-start). --skip-name-resolve: no resolver here.
chroot "$root" /usr/bin/mariadb-install-db --user=mysql --datadir=/var/lib/mysql \
  --skip-test-db --skip-name-resolve --auth-root-authentication-method=socket >/dev/null
# mariadb-install-db also named the build host in a proxy grant: drop it.
printf '%s\n' "CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" \
  "DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';" \
  | chroot "$root" /usr/sbin/mariadbd --bootstrap --user=mysql --datadir=/var/lib/mysql \
    --log-error=/var/log/mysql/bootstrap.log
# The bootstrap ran as mysql; anything it left elsewhere is not part of the image.
rm -f "$root/run/mysqld/"* "$root/var/log/mysql/"*

clean_run "$root" mysqld
trim "$root"
