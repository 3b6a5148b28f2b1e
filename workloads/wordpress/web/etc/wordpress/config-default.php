<?php
/*
 * WordPress's configuration in Ferry's container (Debian's wp-config.php includes this file for
 * any host name). The database comes from the environment that ferry-web-start passes to Apache
 * and PHP, so one image serves any deploy: DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD.
 */
function ferry_env(string $name, string $default): string {
	$v = getenv($name);
	return ($v === false || $v === '') ? $default : $v;
}

define('DB_NAME', ferry_env('DB_NAME', 'wordpress'));
define('DB_USER', ferry_env('DB_USER', 'wordpress'));
define('DB_PASSWORD', ferry_env('DB_PASSWORD', ''));
define('DB_HOST', ferry_env('DB_HOST', '127.0.0.1') . ':' . ferry_env('DB_PORT', '3306'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');

/*
 * The site's URL is the one the client used. The container moves between hosts and sits behind
 * HAProxy: a fixed home URL would redirect every client to wherever WordPress was installed.
 */
$ferry_host = preg_replace('/[^A-Za-z0-9.:\[\]-]/', '', $_SERVER['HTTP_HOST'] ?? '');
if ($ferry_host === '') {
	$ferry_host = 'localhost';
}
define('WP_HOME', 'http://' . $ferry_host);
define('WP_SITEURL', 'http://' . $ferry_host);

/* WP-Cron would fetch wp-cron.php from the site's own URL on page loads: a loopback request
 * that can reach the old host during a migration. Nothing here needs scheduled tasks. */
define('DISABLE_WP_CRON', true);
/* No internet: update and API checks would only wait for their timeouts. */
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);

define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
$table_prefix = 'wp_';
