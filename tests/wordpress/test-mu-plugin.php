<?php
/**
 * Test-only must-use plugin (copied into the test's wp-content/mu-plugins):
 * lets the test post many comments from 127.0.0.1 in a few seconds
 * (WordPress's 15-second flood check off), lets it comment anonymously
 * through the REST API, and sends no e-mail (there is no MTA).
 *
 * @package Raqib
 */

add_filter( 'wp_is_comment_flood', '__return_false', 99 );
add_filter( 'rest_allow_anonymous_comments', '__return_true' );
add_filter( 'pre_wp_mail', '__return_false' );
