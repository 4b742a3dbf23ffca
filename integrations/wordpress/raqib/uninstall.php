<?php
/**
 * Deleting the plugin removes its settings and its pending retry. The
 * comment meta it wrote (_raqib_*) stays: it is the history of what Raqib
 * decided about each comment.
 *
 * @package Raqib
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

delete_option( 'raqib_settings' );
wp_clear_scheduled_hook( 'raqib_retry' );
