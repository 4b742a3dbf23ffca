<?php
/**
 * Plugin Name:       Raqib
 * Plugin URI:        https://github.com/raqib/raqib
 * Description:       Sends every new comment to a Raqib moderation daemon (raqibd), follows its verdicts and its moderators' decisions, and tells Raqib what wp-admin's moderators decide.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Author:            Raqib
 * License:           GPL-2.0-or-later
 * Text Domain:       raqib
 * Domain Path:       /languages
 *
 * The plugin's entry point: it only loads the parts and wires their hooks, so
 * each part (settings, the raqibd client, submission, the webhook, decisions
 * from wp-admin, the comments-list column) stays small and readable alone.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

define( 'RAQIB_PLUGIN_VERSION', '1.0.0' );
define( 'RAQIB_PLUGIN_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-raqib-settings.php';
require_once __DIR__ . '/includes/class-raqib-client.php';
require_once __DIR__ . '/includes/class-raqib-submit.php';
require_once __DIR__ . '/includes/class-raqib-webhook.php';
require_once __DIR__ . '/includes/class-raqib-moderation.php';
require_once __DIR__ . '/includes/class-raqib-admin.php';

/**
 * Loads the translations (Arabic ships in languages/).
 */
function raqib_load_textdomain() {
	load_plugin_textdomain( 'raqib', false, dirname( plugin_basename( __FILE__ ) ) . '/languages' );
}
add_action( 'init', 'raqib_load_textdomain' );

Raqib_Settings::init();
Raqib_Submit::init();
Raqib_Webhook::init();
Raqib_Moderation::init();
Raqib_Admin::init();

register_deactivation_hook( __FILE__, array( 'Raqib_Submit', 'unschedule' ) );
