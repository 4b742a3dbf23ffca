<?php
/**
 * The two calls the plugin makes to raqibd, through WordPress's HTTP API.
 *
 * Every answer is reduced to one array (code, body, error) so callers decide
 * on one shape: code 0 means raqibd could not be reached at all.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

/**
 * Speaks raqibd's JSON API with the configured moderate token.
 */
class Raqib_Client {

	/**
	 * POST /v1/comments.
	 *
	 * @param array  $comment The comment's fields (post_id, author, email, ...).
	 * @param string $key     Idempotency-Key: a retry gets the first answer back.
	 * @return array See request().
	 */
	public static function submit( $comment, $key ) {
		return self::request( '/v1/comments', $comment, array( 'Idempotency-Key' => $key ) );
	}

	/**
	 * POST /v1/comments/{id}/decision.
	 *
	 * @param string $id     Raqib's comment id.
	 * @param string $status approved, rejected or spam.
	 * @param string $reason Free text recorded with the decision.
	 * @return array See request().
	 */
	public static function decide( $id, $status, $reason ) {
		$body = array(
			'status' => $status,
			'reason' => $reason,
			'site'   => Raqib_Settings::get( 'site' ),
		);
		return self::request( '/v1/comments/' . rawurlencode( $id ) . '/decision', $body, array() );
	}

	/**
	 * One JSON POST to raqibd.
	 *
	 * @param string $path    Path under the configured URL.
	 * @param array  $body    Encoded as JSON.
	 * @param array  $headers Extra headers.
	 * @return array { code: HTTP status or 0, body: decoded JSON or null, error: text }.
	 */
	private static function request( $path, $body, $headers ) {
		$response = wp_remote_post(
			Raqib_Settings::get( 'url' ) . $path,
			array(
				'timeout'     => Raqib_Settings::number( 'RAQIB_TIMEOUT', 5 ),
				'redirection' => 0,
				'headers'     => array_merge(
					array(
						'Authorization' => 'Bearer ' . Raqib_Settings::get( 'token' ),
						'Content-Type'  => 'application/json',
					),
					$headers
				),
				'body'        => wp_json_encode( $body ),
			)
		);
		if ( is_wp_error( $response ) ) {
			return array(
				'code'  => 0,
				'body'  => null,
				'error' => $response->get_error_message(),
			);
		}
		$code    = (int) wp_remote_retrieve_response_code( $response );
		$decoded = json_decode( wp_remote_retrieve_body( $response ), true );
		$decoded = is_array( $decoded ) ? $decoded : null;
		$error   = '';
		if ( $code < 200 || $code > 299 ) {
			$error = $decoded && isset( $decoded['error'] ) ? (string) $decoded['error'] : 'HTTP ' . $code;
			if ( $decoded && isset( $decoded['fields'] ) && is_array( $decoded['fields'] ) ) {
				$error .= ' (' . http_build_query( $decoded['fields'], '', ', ' ) . ')';
			}
		}
		return array(
			'code'  => $code,
			'body'  => $decoded,
			'error' => $error,
		);
	}
}
