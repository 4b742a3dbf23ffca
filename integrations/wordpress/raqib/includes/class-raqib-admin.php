<?php
/**
 * wp-admin shows why: a "Raqib" column in the comments list with Raqib's
 * status, score and the descriptions of the rules that matched, or why the
 * comment has not reached Raqib yet.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

/**
 * The comments-list column.
 */
class Raqib_Admin {

	/**
	 * Hooks the column into Comments (edit-comments.php).
	 */
	public static function init() {
		add_filter( 'manage_edit-comments_columns', array( __CLASS__, 'add_column' ) );
		add_action( 'manage_comments_custom_column', array( __CLASS__, 'render_column' ), 10, 2 );
	}

	/**
	 * Adds the column.
	 *
	 * @param array $columns Column id => title.
	 * @return array
	 */
	public static function add_column( $columns ) {
		$columns['raqib'] = __( 'Raqib', 'raqib' );
		return $columns;
	}

	/**
	 * One comment's cell.
	 *
	 * @param string $column     The column being drawn.
	 * @param int    $comment_id The comment.
	 */
	public static function render_column( $column, $comment_id ) {
		if ( 'raqib' !== $column ) {
			return;
		}
		$raqib_id = get_comment_meta( $comment_id, Raqib_Submit::META_ID, true );
		$waiting  = (int) get_comment_meta( $comment_id, Raqib_Submit::META_RETRY, true );
		$error    = (string) get_comment_meta( $comment_id, Raqib_Submit::META_ERROR, true );
		if ( ! $raqib_id ) {
			if ( $waiting ) {
				/* translators: 1: number of attempts, 2: the error. */
				echo esc_html( sprintf( __( 'Not checked yet: raqibd did not answer (%1$d attempts: %2$s). Held; WP-Cron retries.', 'raqib' ), $waiting, $error ) );
			} elseif ( '' !== $error ) {
				/* translators: %s: the error raqibd gave. */
				echo esc_html( sprintf( __( 'Refused by raqibd: %s', 'raqib' ), $error ) );
			} else {
				echo '&#8212;';
			}
			return;
		}
		self::render_verdict( $comment_id );
	}

	/**
	 * Status, score and matched rules of a comment Raqib has seen.
	 *
	 * @param int $comment_id The comment.
	 */
	private static function render_verdict( $comment_id ) {
		$labels  = array(
			'pending'  => __( 'pending review', 'raqib' ),
			'approved' => __( 'approved', 'raqib' ),
			'rejected' => __( 'rejected', 'raqib' ),
			'spam'     => __( 'spam', 'raqib' ),
		);
		$status  = (string) get_comment_meta( $comment_id, Raqib_Submit::META_STATUS, true );
		$score   = (float) get_comment_meta( $comment_id, Raqib_Submit::META_SCORE, true );
		$matches = get_comment_meta( $comment_id, Raqib_Submit::META_RULES, true );
		$problem = (string) get_comment_meta( $comment_id, Raqib_Moderation::META_ERROR, true );
		printf(
			'<p class="raqib-verdict"><strong>%s</strong> &middot; %s</p>',
			esc_html( isset( $labels[ $status ] ) ? $labels[ $status ] : $status ),
			/* translators: %s: the score Raqib's rules gave. */
			esc_html( sprintf( __( 'score %s', 'raqib' ), number_format_i18n( $score, floor( $score ) === $score ? 0 : 1 ) ) )
		);
		if ( is_array( $matches ) && $matches ) {
			echo '<ul class="raqib-matches">';
			foreach ( $matches as $match ) {
				printf(
					'<li><code>%s</code> (%s) %s</li>',
					esc_html( $match['rule'] ),
					esc_html( number_format_i18n( $match['score'], floor( $match['score'] ) === $match['score'] ? 0 : 1 ) ),
					esc_html( $match['description'] )
				);
			}
			echo '</ul>';
		}
		if ( '' !== $problem ) {
			/* translators: %s: why raqibd refused wp-admin's decision. */
			echo '<p class="raqib-error">' . esc_html( sprintf( __( 'Decision not recorded by Raqib: %s', 'raqib' ), $problem ) ) . '</p>';
		}
	}
}
