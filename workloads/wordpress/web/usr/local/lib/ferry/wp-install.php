<?php
/*
 * Run by ferry-web-start before Apache (PHP CLI, as www-data). Waits for the database, then
 * installs WordPress once: the site, its admin and the "Hello world!" post (ID 1, comments open
 * to anyone). A later start finds it installed and changes nothing; a restore never runs this.
 * The environment is the container's (see ferry-web-start).
 */
function env_or(string $name, string $default): string {
	$v = getenv($name);
	return ($v === false || $v === '') ? $default : $v;
}

function say(string $msg): void {
	fwrite(STDOUT, date('c') . " wp-install: $msg\n");
}

// Debian's wp-config.php chooses the configuration by host name, and there is no request here.
$_SERVER['HTTP_HOST'] = 'localhost';

$host = env_or('DB_HOST', '127.0.0.1');
$port = (int) env_or('DB_PORT', '3306');
$name = env_or('DB_NAME', 'wordpress');
$user = env_or('DB_USER', 'wordpress');
$wait = (int) env_or('WP_DB_WAIT_S', '120');

// The database container may still be starting (InnoDB takes a few seconds).
mysqli_report(MYSQLI_REPORT_OFF);
$deadline = time() + $wait;
for (;;) {
	$db = @mysqli_connect($host, $user, (string) getenv('DB_PASSWORD'), $name, $port);
	if ($db) {
		mysqli_close($db);
		break;
	}
	if (time() >= $deadline) {
		say("cannot log in to $name on $host:$port as $user after {$wait} s: " . mysqli_connect_error()
			. ' (is the database container running, with the same DB_PASSWORD?)');
		exit(1);
	}
	sleep(1);
}

define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if (is_blog_installed()) {
	say('WordPress is installed already');
	exit(0);
}

$title = env_or('WP_TITLE', 'Ferry WordPress');
$admin = env_or('WP_ADMIN_USER', 'admin');
$given = getenv('WP_ADMIN_PASSWORD');
$password = ($given === false || $given === '') ? wp_generate_password(24, false) : $given;
$result = wp_install($title, $admin, env_or('WP_ADMIN_EMAIL', 'admin@example.invalid'), true, '', wp_slash($password));
if (is_wp_error($result)) {
	say('wp_install failed: ' . $result->get_error_message());
	exit(1);
}

// Anyone may comment without logging in, and comments appear at once (no moderation queue for
// first-time commenters), so that a client can post one and read it back.
update_option('comment_registration', 0);
update_option('comment_moderation', 0);
update_option('comment_previously_approved', 0);
update_option('close_comments_for_old_posts', 0);

if ($given === false || $given === '') {
	$file = '/var/lib/ferry/admin-password';
	file_put_contents($file, $password . "\n");
	chmod($file, 0600);
	say("admin password generated: $file");
}
$post = get_post(1);
say("installed '$title' (admin '$admin'); post 1: '" . ($post ? $post->post_title : '?') . "'");
