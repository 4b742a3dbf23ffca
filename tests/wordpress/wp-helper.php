<?php
/**
 * Command-line helper for wordpress.t: installs WordPress into the test's
 * database and switches plugins, with WordPress's own functions, so the
 * test needs no browser, no wp-cli and no network.
 *
 *   php wp-helper.php WPDIR install URL
 *   php wp-helper.php WPDIR plugins ACTIVATE,... DEACTIVATE,...
 *   php wp-helper.php WPDIR locale USER LOCALE      (wp-admin's language for USER)
 *
 * @package Raqib
 */

if ( 'cli' !== PHP_SAPI || $argc < 3 ) {
	fwrite( STDERR, "usage: php wp-helper.php WPDIR install|plugins ...\n" );
	exit( 2 );
}
list( , $wpdir, $command ) = $argv;

if ( 'install' === $command ) {
	define( 'WP_INSTALLING', true );
}
require $wpdir . '/wp-load.php';

if ( 'install' === $command ) {
	require_once ABSPATH . 'wp-admin/includes/upgrade.php';
	$result = wp_install( 'Raqib test', 'admin', 'admin@example.com', true, '', 'password' );
	// Quiet: no e-mail (there is no MTA), no notices to moderators.
	update_option( 'comments_notify', 0 );
	update_option( 'moderation_notify', 0 );
	update_option( 'akismet_strictness', '0' );
	echo 'installed user ', $result['user_id'], "\n";
	exit( 0 );
}

if ( 'plugins' === $command ) {
	require_once ABSPATH . 'wp-admin/includes/plugin.php';
	$on  = array_filter( explode( ',', isset( $argv[3] ) ? $argv[3] : '' ) );
	$off = array_filter( explode( ',', isset( $argv[4] ) ? $argv[4] : '' ) );
	deactivate_plugins( $off );
	foreach ( $on as $plugin ) {
		$error = activate_plugin( $plugin );
		if ( is_wp_error( $error ) ) {
			fwrite( STDERR, $plugin . ': ' . $error->get_error_message() . "\n" );
			exit( 1 );
		}
	}
	echo 'active: ', implode( ',', get_option( 'active_plugins' ) ), "\n";
	exit( 0 );
}

if ( 'locale' === $command && $argc > 4 ) {
	$user = get_user_by( 'login', $argv[3] );
	if ( ! $user || ! update_user_meta( $user->ID, 'locale', $argv[4] ) ) {
		fwrite( STDERR, "cannot set the locale of {$argv[3]}\n" );
		exit( 1 );
	}
	echo $argv[3], ': ', get_user_locale( $user->ID ), "\n";
	exit( 0 );
}

fwrite( STDERR, "unknown command $command\n" );
exit( 2 );
