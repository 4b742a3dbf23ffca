<?php
/**
 * Plugin Name: Raqib for Akismet (API host map)
 * Description: Sends the unchanged Akismet plugin's calls for rest.akismet.com to raqibd's Akismet-compatible API instead. A must-use plugin: copy it to wp-content/mu-plugins/ and define RAQIB_AKISMET_URL.
 * Version:     1.0.0
 * License:     GPL-2.0-or-later
 *
 * Why a must-use plugin: Akismet's API host is a class constant, so the only
 * way to move it without editing Akismet is to answer its HTTP requests
 * ourselves. This filter (pre_http_request) runs before WordPress sends any
 * request; for a URL on rest.akismet.com or KEY.rest.akismet.com it makes the
 * same request, path and body, to RAQIB_AKISMET_URL and returns raqibd's
 * answer to Akismet as if Akismet's servers had answered. No hosts-file
 * entry, proxy or certificate is needed. Set the Akismet API key
 * (WPCOM_API_KEY in wp-config.php, or Akismet's settings page) to the secret
 * of a Raqib token of role submit.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

/**
 * Re-sends a request meant for Akismet's servers to raqibd.
 *
 * @param false|array|WP_Error $pre  A response another filter already made, or false.
 * @param array                $args The request's arguments.
 * @param string               $url  The URL requested.
 * @return false|array|WP_Error False to let WordPress send it as it is.
 */
function raqib_akismet_host_map( $pre, $args, $url ) {
	if ( false !== $pre || ! defined( 'RAQIB_AKISMET_URL' ) || '' === RAQIB_AKISMET_URL ) {
		return $pre;
	}
	$host = wp_parse_url( $url, PHP_URL_HOST );
	if ( ! is_string( $host ) || ! preg_match( '/(^|\.)rest\.akismet\.com$/i', $host ) ) {
		return $pre;
	}
	$path  = (string) wp_parse_url( $url, PHP_URL_PATH );
	$query = wp_parse_url( $url, PHP_URL_QUERY );
	// The Host header named Akismet's server; let WordPress name raqibd's.
	if ( isset( $args['headers'] ) && is_array( $args['headers'] ) ) {
		unset( $args['headers']['Host'], $args['headers']['host'] );
	}
	return wp_remote_request( untrailingslashit( RAQIB_AKISMET_URL ) . $path . ( $query ? '?' . $query : '' ), $args );
}
add_filter( 'pre_http_request', 'raqib_akismet_host_map', 10, 3 );
