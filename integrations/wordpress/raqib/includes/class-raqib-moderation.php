<?php
/**
 * Decisions both ways between wp-admin and Raqib.
 *
 * A moderator approving, unapproving, spamming, unspamming or trashing a
 * comment in wp-admin is told to Raqib (POST /v1/comments/{id}/decision), so
 * Raqib's per-rule statistics and learning see WordPress's moderators too.
 * Status changes the plugin makes itself (Raqib's verdict, a webhook) are
 * not sent back: that would echo Raqib's own decisions to it.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

/**
 * Maps WordPress's comment statuses to Raqib's decisions and back.
 */
class Raqib_Moderation {

	const META_SENT   = '_raqib_sent';
	const META_QUEUED = '_raqib_decision_queued';
	const META_ERROR  = '_raqib_decision_error';

	/**
	 * True while the plugin itself changes a comment's status.
	 *
	 * @var bool
	 */
	private static $applying = false;

	/**
	 * Hooks every status change, whichever screen or API made it.
	 */
	public static function init() {
		add_action( 'transition_comment_status', array( __CLASS__, 'on_transition' ), 10, 3 );
	}

	/**
	 * Sets a comment's WordPress status from a Raqib status, without telling
	 * Raqib back. pending changes nothing (the comment is already held).
	 *
	 * @param int    $comment_id The comment.
	 * @param string $status     approved, rejected, spam or pending.
	 * @return bool Whether the status is known.
	 */
	public static function apply( $comment_id, $status ) {
		$actions = array(
			'approved' => function () use ( $comment_id ) {
				wp_set_comment_status( $comment_id, 'approve' );
			},
			'spam'     => function () use ( $comment_id ) {
				wp_spam_comment( $comment_id );
			},
			'rejected' => function () use ( $comment_id ) {
				wp_trash_comment( $comment_id );
			},
			'pending'  => '__return_null',
		);
		if ( ! isset( $actions[ $status ] ) ) {
			return false;
		}
		self::$applying = true;
		try {
			call_user_func( $actions[ $status ] );
		} finally {
			self::$applying = false;
		}
		return true;
	}

	/**
	 * The Raqib decision a wp-admin status change means, or '' for none.
	 * Unspamming says "not spam" (as Akismet's submit-ham does), so it is
	 * "approved" in Raqib even though WordPress keeps the comment held.
	 *
	 * @param string $new_status WordPress's new status.
	 * @param string $old_status WordPress's old status.
	 * @return string
	 */
	public static function decision_for( $new_status, $old_status ) {
		if ( 'approved' === $new_status ) {
			return 'approved';
		}
		if ( 'spam' === $new_status ) {
			return 'spam';
		}
		if ( 'trash' === $new_status ) {
			return 'rejected';
		}
		if ( 'unapproved' === $new_status ) {
			$from = array(
				'approved' => 'rejected',
				'spam'     => 'approved',
			);
			return isset( $from[ $old_status ] ) ? $from[ $old_status ] : '';
		}
		return '';
	}

	/**
	 * A status change: told to Raqib when a moderator made it.
	 *
	 * @param string     $new_status New status.
	 * @param string     $old_status Old status.
	 * @param WP_Comment $comment    The comment.
	 */
	public static function on_transition( $new_status, $old_status, $comment ) {
		if ( self::$applying || $new_status === $old_status || ! current_user_can( 'moderate_comments' ) ) {
			return;
		}
		self::tell_raqib( $comment, $new_status, $old_status );
	}

	/**
	 * Sends a moderator's decision; kept for WP-Cron when raqibd is down or
	 * the comment has not reached Raqib yet.
	 *
	 * @param WP_Comment $comment    The comment.
	 * @param string     $new_status New WordPress status.
	 * @param string     $old_status Old WordPress status.
	 */
	public static function tell_raqib( $comment, $new_status, $old_status ) {
		$status = self::decision_for( $new_status, $old_status );
		$id     = $comment->comment_ID;
		if ( '' === $status || ! Raqib_Settings::configured() ) {
			return;
		}
		$user   = wp_get_current_user();
		$reason = sprintf( 'wp-admin: %s -> %s by %s', $old_status, $new_status, $user->exists() ? $user->user_login : 'wordpress' );
		$queued = array(
			'status' => $status,
			'reason' => $reason,
		);
		if ( ! get_comment_meta( $id, Raqib_Submit::META_ID, true ) ) {
			if ( get_comment_meta( $id, Raqib_Submit::META_RETRY, true ) ) {
				update_comment_meta( $id, self::META_QUEUED, $queued );
			}
			return; // Never sent to Raqib (made before the plugin ran): nothing to tell.
		}
		self::send( $id, $queued );
	}

	/**
	 * One decision to raqibd; the outcome goes to comment meta.
	 *
	 * @param int   $id       The comment.
	 * @param array $decision status and reason.
	 * @return bool False when it is to be retried.
	 */
	private static function send( $id, $decision ) {
		// Recorded first: the webhook that echoes it may arrive before the answer.
		update_comment_meta( $id, self::META_SENT, $decision['status'] );
		$answer = Raqib_Client::decide( get_comment_meta( $id, Raqib_Submit::META_ID, true ), $decision['status'], $decision['reason'] );
		if ( 200 === $answer['code'] ) {
			update_comment_meta( $id, Raqib_Submit::META_STATUS, $decision['status'] );
			delete_comment_meta( $id, self::META_QUEUED );
			delete_comment_meta( $id, self::META_ERROR );
			return true;
		}
		if ( 0 === $answer['code'] || $answer['code'] >= 500 ) {
			update_comment_meta( $id, self::META_QUEUED, $decision );
			Raqib_Submit::schedule( 1 );
			return false;
		}
		// 409 already_decided: another moderator decided first in Raqib.
		$status = isset( $answer['body']['status'] ) ? ': ' . sanitize_key( $answer['body']['status'] ) : '';
		update_comment_meta( $id, self::META_ERROR, $answer['error'] . $status );
		delete_comment_meta( $id, self::META_QUEUED );
		return true;
	}

	/**
	 * WP-Cron: the decisions raqibd did not hear (those of comments that have
	 * reached Raqib by now).
	 *
	 * @return int 0 when none is left, else 1 (retry later).
	 */
	public static function retry() {
		$queued = get_comments(
			array(
				'meta_key' => self::META_QUEUED, // phpcs:ignore WordPress.DB.SlowDBQuery
				'number'   => 50,
				'status'   => 'any',
			)
		);
		foreach ( $queued as $comment ) {
			$decision = get_comment_meta( $comment->comment_ID, self::META_QUEUED, true );
			if ( ! get_comment_meta( $comment->comment_ID, Raqib_Submit::META_ID, true ) || ! is_array( $decision ) ) {
				continue;
			}
			if ( ! self::send( $comment->comment_ID, $decision ) ) {
				return 1;
			}
		}
		return 0;
	}
}
