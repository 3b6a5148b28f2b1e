<?php
/*
 * Plugin Name: Ferry workload
 * Description: What the migration benchmark needs from WordPress.
 */

/* The load probe posts comments from one address many times a second; WordPress's flood control
 * (one comment per 15 s per address) would refuse all but the first. */
add_filter('wp_is_comment_flood', '__return_false', PHP_INT_MAX);

/* There is no mail transport in the container: mail() would fork a missing sendmail on every
 * comment notification. */
add_filter('pre_wp_mail', '__return_false');
