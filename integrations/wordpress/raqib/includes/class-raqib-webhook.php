<?php
/**
 * raqib/v1/decision: Raqib's signed webhook, so a decision made in Raqib's
 * console publishes, spams or trashes the WordPress comment.
 *
 * Reachable as /?rest_route=/raqib/v1/decision whatever the permalinks.
 * The body is trusted only when X-Raqib-Signature is the HMAC-SHA256 of it
 * under the webhook secret (compared with hash_equals); a delivery seen
 * before (X-Raqib-Delivery, Raqib delivers at least once) is acknowledged
 * and dropped. Anything Raqib should not retry is answered 200: Raqib
 * delivers in order, so an unanswerable delivery would hold up the rest.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

/**
 * Receives Raqib's decisions.
 */
class Raqib_Webhook {

	const STATUSES = array( 'approved', 'rejected', 'spam' );

	/**
	 * Hooks the route.
	 */
	public static function init() {
		add_action( 'rest_api_init', array( __CLASS__, 'register' ) );
	}

	/**
	 * Registers POST raqib/v1/decision. Open to anyone: the signature is the
	 * authentication.
	 */
	public static function register() {
		register_rest_route(
			'raqib/v1',
			'/decision',
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'receive' ),
				'permission_callback' => '__return_true',
			)
		);
	}

	/**
	 * Checks, parses and applies one delivery.
	 *
	 * @param WP_REST_Request $request The delivery.
	 * @return WP_REST_Response|WP_Error
	 */
	public static function receive( $request ) {
		$secret = Raqib_Settings::get( 'webhook_secret' );
		if ( '' === $secret ) {
			return new WP_Error( 'raqib_not_configured', __( 'No webhook secret is configured (RAQIB_WEBHOOK_SECRET).', 'raqib' ), array( 'status' => 503 ) );
		}
		$body      = $request->get_body();
		$signature = (string) $request->get_header( 'x_raqib_signature' );
		if ( ! hash_equals( 'sha256=' . hash_hmac( 'sha256', $body, $secret ), $signature ) ) {
			return new WP_Error( 'raqib_bad_signature', __( 'X-Raqib-Signature is missing or does not match the body.', 'raqib' ), array( 'status' => 401 ) );
		}
		$data  = json_decode( $body, true );
		$error = self::invalid_field( $data );
		if ( $error ) {
			/* translators: %s: name of a JSON field. */
			return new WP_Error( 'raqib_invalid_field', sprintf( __( 'The field "%s" is missing or invalid.', 'raqib' ), $error ), array( 'status' => 400, 'field' => $error ) );
		}
		$delivery = (string) $request->get_header( 'x_raqib_delivery' );
		$seen     = 'raqib_dlv_' . md5( $delivery );
		if ( '' !== $delivery && get_transient( $seen ) ) {
			return self::answer( 'repeat' );
		}
		$result = self::decide( $data );
		if ( '' !== $delivery ) {
			set_transient( $seen, 1, WEEK_IN_SECONDS );
		}
		return self::answer( $result );
	}

	/**
	 * The first field of a delivery that is missing or wrong, '' when none.
	 *
	 * @param mixed $data The decoded body.
	 * @return string
	 */
	private static function invalid_field( $data ) {
		if ( ! is_array( $data ) ) {
			return 'body';
		}
		if ( ! isset( $data['event'] ) || 'decision' !== $data['event'] ) {
			return 'event';
		}
		if ( ! isset( $data['id'] ) || ! is_string( $data['id'] ) || ! preg_match( '/^[A-Za-z0-9_-]{1,64}$/', $data['id'] ) ) {
			return 'id';
		}
		if ( ! isset( $data['status'] ) || ! in_array( $data['status'], self::STATUSES, true ) ) {
			return 'status';
		}
		return '';
	}

	/**
	 * Applies a decision to the comment Raqib knows by that id.
	 *
	 * @param array $data The delivery.
	 * @return string What happened: applied, echo, other site, unknown comment.
	 */
	private static function decide( $data ) {
		if ( isset( $data['site'] ) && Raqib_Settings::get( 'site' ) !== $data['site'] ) {
			return 'other site';
		}
		$found = get_comments(
			array(
				'meta_key'   => Raqib_Submit::META_ID, // phpcs:ignore WordPress.DB.SlowDBQuery
				'meta_value' => $data['id'], // phpcs:ignore WordPress.DB.SlowDBQuery
				'number'     => 1,
				'status'     => 'any',
				'fields'     => 'ids',
			)
		);
		if ( ! $found ) {
			return 'unknown comment'; // Deleted here, or sent by another site.
		}
		$comment_id = (int) $found[0];
		update_comment_meta( $comment_id, Raqib_Submit::META_STATUS, $data['status'] );
		if ( get_comment_meta( $comment_id, Raqib_Moderation::META_SENT, true ) === $data['status'] ) {
			return 'echo'; // The decision wp-admin made and sent: already here.
		}
		Raqib_Moderation::apply( $comment_id, $data['status'] );
		return 'applied';
	}

	/**
	 * A 200 answer saying what became of the delivery.
	 *
	 * @param string $result What happened.
	 * @return WP_REST_Response
	 */
	private static function answer( $result ) {
		return new WP_REST_Response(
			array(
				'ok'     => true,
				'result' => $result,
			),
			200
		);
	}
}
