<?php
/**
 * Every new comment goes to raqibd, and Raqib's status decides WordPress's.
 *
 * A comment is inserted held (never published unchecked), then sent with the
 * comment's id as Idempotency-Key: pending stays held, approved is published,
 * spam goes to the spam folder. When raqibd cannot be reached the comment
 * stays held and WP-Cron sends it again later; the same key makes a retry of
 * a call that did arrive harmless.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

/**
 * Sends new comments to raqibd and applies its verdict.
 */
class Raqib_Submit {

	const CRON        = 'raqib_retry';
	const META_ID     = '_raqib_id';
	const META_STATUS = '_raqib_status';
	const META_SCORE  = '_raqib_score';
	const META_RULES  = '_raqib_matches';
	const META_RETRY  = '_raqib_retry';
	const META_REFER  = '_raqib_referrer';
	const META_ERROR  = '_raqib_error';

	/**
	 * Hooks both ways a visitor's comment is made: wp-comments-post.php
	 * (wp_new_comment) and the REST API (which inserts without it).
	 */
	public static function init() {
		add_filter( 'pre_comment_approved', array( __CLASS__, 'hold' ), 99, 2 );
		add_action( 'comment_post', array( __CLASS__, 'on_comment_post' ), 1 );
		add_action( 'rest_insert_comment', array( __CLASS__, 'on_rest_insert' ), 1, 3 );
		add_action( self::CRON, array( __CLASS__, 'retry' ) );
	}

	/**
	 * Whether Raqib moderates this comment: an ordinary comment (not a
	 * pingback) by someone who is not a moderator here.
	 *
	 * @param array|WP_Comment $comment Comment data or object.
	 * @return bool
	 */
	public static function applies( $comment ) {
		$comment = (array) $comment;
		$type    = isset( $comment['comment_type'] ) ? $comment['comment_type'] : '';
		$user_id = isset( $comment['user_id'] ) ? (int) $comment['user_id'] : 0;
		if ( ! Raqib_Settings::configured() || ! in_array( $type, array( '', 'comment' ), true ) ) {
			return false;
		}
		return ! ( $user_id && user_can( $user_id, 'moderate_comments' ) );
	}

	/**
	 * Before insertion: hold every comment Raqib moderates, so nothing is
	 * published before Raqib has seen it. WordPress's own spam and trash
	 * verdicts (disallowed words) and errors (flood, duplicate) stand.
	 *
	 * @param int|string|WP_Error $approved WordPress's verdict.
	 * @param array               $commentdata The comment.
	 * @return int|string|WP_Error
	 */
	public static function hold( $approved, $commentdata ) {
		if ( is_wp_error( $approved ) || 'spam' === $approved || 'trash' === $approved || ! self::applies( $commentdata ) ) {
			return $approved;
		}
		return 0;
	}

	/**
	 * After wp_new_comment() inserted a comment (the comment form).
	 *
	 * @param int $comment_id The new comment.
	 */
	public static function on_comment_post( $comment_id ) {
		$referrer = isset( $_SERVER['HTTP_REFERER'] ) ? esc_url_raw( wp_unslash( $_SERVER['HTTP_REFERER'] ) ) : '';
		self::process( $comment_id, $referrer );
	}

	/**
	 * After the REST API created a comment.
	 *
	 * @param WP_Comment      $comment  The new comment.
	 * @param WP_REST_Request $request  The request.
	 * @param bool            $creating False when an existing comment was updated.
	 */
	public static function on_rest_insert( $comment, $request, $creating ) {
		if ( $creating ) {
			self::process( $comment->comment_ID, esc_url_raw( (string) $request->get_header( 'referer' ) ) );
		}
	}

	/**
	 * Sends one new comment; on failure it waits for WP-Cron.
	 *
	 * @param int    $comment_id The comment.
	 * @param string $referrer   The page the visitor came from.
	 */
	private static function process( $comment_id, $referrer ) {
		$comment = get_comment( $comment_id );
		if ( $comment && self::applies( $comment ) && 0 === self::send( $comment, $referrer ) ) {
			self::schedule( 1 );
		}
	}

	/**
	 * The body of POST /v1/comments from a WordPress comment.
	 *
	 * @param WP_Comment $comment  The comment.
	 * @param string     $referrer The referrer, '' when unknown.
	 * @return array
	 */
	public static function payload( $comment, $referrer ) {
		$fields = array(
			'site'       => Raqib_Settings::get( 'site' ),
			'post_id'    => (string) $comment->comment_post_ID,
			'parent_id'  => $comment->comment_parent ? (string) $comment->comment_parent : '',
			'author'     => $comment->comment_author,
			'email'      => $comment->comment_author_email,
			'url'        => $comment->comment_author_url,
			'content'    => $comment->comment_content,
			'ip'         => $comment->comment_author_IP,
			'user_agent' => $comment->comment_agent,
			'referrer'   => $referrer,
			'lang'       => get_bloginfo( 'language' ),
		);
		// Optional fields go only when known: Raqib checks what it is given.
		foreach ( array( 'parent_id', 'url', 'ip', 'user_agent', 'referrer' ) as $optional ) {
			if ( '' === $fields[ $optional ] ) {
				unset( $fields[ $optional ] );
			}
		}
		return $fields;
	}

	/**
	 * The Idempotency-Key of a comment: its id on this (multi)site.
	 *
	 * @param WP_Comment $comment The comment.
	 * @return string
	 */
	public static function idempotency_key( $comment ) {
		return 'wp-' . get_current_blog_id() . '-' . $comment->comment_ID;
	}

	/**
	 * POSTs a comment to raqibd and records the outcome in comment meta.
	 *
	 * @param WP_Comment $comment  The comment.
	 * @param string     $referrer The referrer.
	 * @return int 1 sent, 0 to be retried, -1 refused for good (see META_ERROR).
	 */
	private static function send( $comment, $referrer ) {
		$id     = $comment->comment_ID;
		$answer = Raqib_Client::submit( self::payload( $comment, $referrer ), self::idempotency_key( $comment ) );
		$body   = $answer['body'];
		if ( 202 === $answer['code'] && isset( $body['id'], $body['status'] ) ) {
			update_comment_meta( $id, self::META_ID, sanitize_text_field( $body['id'] ) );
			update_comment_meta( $id, self::META_STATUS, sanitize_key( $body['status'] ) );
			update_comment_meta( $id, self::META_SCORE, isset( $body['score'] ) ? (float) $body['score'] : 0 );
			update_comment_meta( $id, self::META_RULES, self::matches( $body ) );
			delete_comment_meta( $id, self::META_RETRY );
			delete_comment_meta( $id, self::META_REFER );
			delete_comment_meta( $id, self::META_ERROR );
			self::apply_verdict( $comment, $body['status'] );
			return 1;
		}
		update_comment_meta( $id, self::META_ERROR, $answer['error'] );
		// Down, overloaded or misconfigured (token): the comment is not at fault.
		if ( in_array( $answer['code'], array( 0, 401, 403, 429 ), true ) || $answer['code'] >= 500 ) {
			update_comment_meta( $id, self::META_RETRY, 1 + (int) get_comment_meta( $id, self::META_RETRY, true ) );
			update_comment_meta( $id, self::META_REFER, $referrer );
			return 0;
		}
		delete_comment_meta( $id, self::META_RETRY );
		return -1;
	}

	/**
	 * The matched rules worth keeping for wp-admin: name, score, description.
	 *
	 * @param array $body Raqib's answer.
	 * @return array
	 */
	private static function matches( $body ) {
		$kept = array();
		$list = isset( $body['matches'] ) && is_array( $body['matches'] ) ? $body['matches'] : array();
		foreach ( $list as $match ) {
			if ( is_array( $match ) && isset( $match['rule'] ) ) {
				$kept[] = array(
					'rule'        => sanitize_text_field( $match['rule'] ),
					'score'       => isset( $match['score'] ) ? (float) $match['score'] : 0,
					'description' => isset( $match['description'] ) ? sanitize_text_field( $match['description'] ) : '',
				);
			}
		}
		return $kept;
	}

	/**
	 * Makes WordPress's status follow Raqib's, while the comment is still held
	 * as the plugin left it. WordPress's own spam verdict (disallowed words)
	 * stands, and so does a decision a moderator made in wp-admin while the
	 * comment waited for Raqib: Raqib_Moderation::retry() tells Raqib that one.
	 *
	 * @param WP_Comment $comment The comment as sent.
	 * @param string     $status  Raqib's status.
	 */
	private static function apply_verdict( $comment, $status ) {
		if ( 'unapproved' === wp_get_comment_status( $comment->comment_ID ) ) {
			Raqib_Moderation::apply( $comment->comment_ID, $status );
		}
	}

	/**
	 * WP-Cron: sends again the comments raqibd did not take, and the
	 * wp-admin decisions it did not hear.
	 */
	public static function retry() {
		$waiting = get_comments(
			array(
				'meta_key' => self::META_RETRY, // phpcs:ignore WordPress.DB.SlowDBQuery
				'number'   => 50,
				'orderby'  => 'comment_ID',
				'order'    => 'ASC',
				'status'   => 'any',
			)
		);
		$attempts = 0;
		foreach ( $waiting as $comment ) {
			$referrer = (string) get_comment_meta( $comment->comment_ID, self::META_REFER, true );
			if ( 0 === self::send( $comment, $referrer ) ) {
				$attempts = (int) get_comment_meta( $comment->comment_ID, self::META_RETRY, true );
				break; // Still down: do not wait out a timeout per comment.
			}
		}
		if ( ! $attempts ) {
			$attempts = Raqib_Moderation::retry();
		}
		if ( $attempts || count( $waiting ) >= 50 ) {
			self::schedule( max( 1, $attempts ) );
		}
	}

	/**
	 * Schedules the next retry, backing off (the delay doubles with the
	 * attempts, up to an hour). RAQIB_RETRY_DELAY sets the first delay.
	 *
	 * @param int $attempts Attempts so far.
	 */
	public static function schedule( $attempts ) {
		if ( wp_next_scheduled( self::CRON ) ) {
			return;
		}
		$delay = Raqib_Settings::number( 'RAQIB_RETRY_DELAY', MINUTE_IN_SECONDS ) * pow( 2, min( 6, max( 0, $attempts - 1 ) ) );
		wp_schedule_single_event( time() + min( HOUR_IN_SECONDS, $delay ), self::CRON );
	}

	/**
	 * On deactivation: no retry left scheduled.
	 */
	public static function unschedule() {
		wp_clear_scheduled_hook( self::CRON );
	}
}
