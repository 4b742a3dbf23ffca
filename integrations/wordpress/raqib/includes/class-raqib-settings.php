<?php
/**
 * Settings: where raqibd is, the token, the webhook secret and the site.
 *
 * Each value comes from a wp-config.php constant (RAQIB_URL, RAQIB_TOKEN,
 * RAQIB_WEBHOOK_SECRET, RAQIB_SITE) when it is defined, else from the
 * Settings > Raqib page. Secrets are never printed back: the page shows only
 * whether one is set, and an empty field keeps the stored one.
 *
 * @package Raqib
 */

defined( 'ABSPATH' ) || exit;

/**
 * Reads and edits the plugin's configuration.
 */
class Raqib_Settings {

	const OPTION = 'raqib_settings';
	const PAGE   = 'raqib';

	/**
	 * Setting name => wp-config.php constant that overrides it.
	 *
	 * @var array
	 */
	const CONSTANTS = array(
		'url'            => 'RAQIB_URL',
		'token'          => 'RAQIB_TOKEN',
		'webhook_secret' => 'RAQIB_WEBHOOK_SECRET',
		'site'           => 'RAQIB_SITE',
	);

	/**
	 * Settings that are secrets: never echoed into a page.
	 *
	 * @var array
	 */
	const SECRETS = array( 'token', 'webhook_secret' );

	/**
	 * Hooks the settings page.
	 */
	public static function init() {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_init', array( __CLASS__, 'register' ) );
	}

	/**
	 * One setting: the constant when defined, else the stored option.
	 *
	 * @param string $name One of the keys of CONSTANTS.
	 * @return string The value, '' when unset.
	 */
	public static function get( $name ) {
		$constant = self::CONSTANTS[ $name ];
		if ( defined( $constant ) ) {
			return (string) constant( $constant );
		}
		$stored = get_option( self::OPTION, array() );
		$value  = is_array( $stored ) && isset( $stored[ $name ] ) ? (string) $stored[ $name ] : '';
		if ( 'site' === $name && '' === $value ) {
			return 'default';
		}
		return $value;
	}

	/**
	 * Whether raqibd's URL and a token are known, so comments can be sent.
	 *
	 * @return bool
	 */
	public static function configured() {
		return '' !== self::get( 'url' ) && '' !== self::get( 'token' );
	}

	/**
	 * An integer tuning constant (RAQIB_TIMEOUT, RAQIB_RETRY_DELAY), or its default.
	 *
	 * @param string $constant Name of the constant.
	 * @param int    $fallback Value when it is not defined.
	 * @return int
	 */
	public static function number( $constant, $fallback ) {
		return defined( $constant ) ? max( 1, (int) constant( $constant ) ) : $fallback;
	}

	/**
	 * The address raqibd's webhook_url should name: works whatever the permalinks.
	 *
	 * @return string
	 */
	public static function webhook_url() {
		return add_query_arg( 'rest_route', '/raqib/v1/decision', home_url( '/' ) );
	}

	/**
	 * Adds Settings > Raqib.
	 */
	public static function add_page() {
		add_options_page(
			__( 'Raqib comment moderation', 'raqib' ),
			__( 'Raqib', 'raqib' ),
			'manage_options',
			self::PAGE,
			array( __CLASS__, 'render_page' )
		);
	}

	/**
	 * Registers the option and its fields with the Settings API.
	 */
	public static function register() {
		register_setting(
			self::PAGE,
			self::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( __CLASS__, 'sanitize' ),
				'default'           => array(),
			)
		);
		add_settings_section( 'raqib_main', __( 'Connection to raqibd', 'raqib' ), '__return_false', self::PAGE );
		$fields = array(
			'url'            => __( 'raqibd URL', 'raqib' ),
			'token'          => __( 'Token (role moderate)', 'raqib' ),
			'webhook_secret' => __( 'Webhook secret', 'raqib' ),
			'site'           => __( 'Site', 'raqib' ),
		);
		foreach ( $fields as $name => $label ) {
			add_settings_field(
				'raqib_' . $name,
				$label,
				array( __CLASS__, 'render_field' ),
				self::PAGE,
				'raqib_main',
				array(
					'name'      => $name,
					'label_for' => 'raqib_' . $name,
				)
			);
		}
	}

	/**
	 * Cleans a submitted form: an empty secret keeps the stored one.
	 *
	 * @param mixed $input What the form posted.
	 * @return array What is stored.
	 */
	public static function sanitize( $input ) {
		$old   = get_option( self::OPTION, array() );
		$old   = is_array( $old ) ? $old : array();
		$input = is_array( $input ) ? $input : array();
		$clean = array();

		$clean['url']  = isset( $input['url'] ) ? untrailingslashit( esc_url_raw( trim( $input['url'] ), array( 'http', 'https' ) ) ) : '';
		$site          = isset( $input['site'] ) ? strtolower( trim( $input['site'] ) ) : '';
		$clean['site'] = preg_match( '/^[a-z0-9_-]{1,64}$/', $site ) ? $site : 'default';
		if ( '' !== $site && $clean['site'] !== $site ) {
			add_settings_error( self::OPTION, 'raqib_site', __( 'The site may hold only a-z, 0-9, _ and - (at most 64): "default" is kept.', 'raqib' ) );
		}
		foreach ( self::SECRETS as $name ) {
			$value          = isset( $input[ $name ] ) ? trim( $input[ $name ] ) : '';
			$clean[ $name ] = '' === $value ? ( isset( $old[ $name ] ) ? $old[ $name ] : '' ) : $value;
		}
		return $clean;
	}

	/**
	 * One input. Secrets are shown only as "set" or "not set"; a constant makes
	 * the field read-only.
	 *
	 * @param array $args The field's name.
	 */
	public static function render_field( $args ) {
		$name     = $args['name'];
		$constant = self::CONSTANTS[ $name ];
		$secret   = in_array( $name, self::SECRETS, true );
		$is_set   = '' !== self::get( $name );
		$fixed    = defined( $constant );
		printf(
			'<input type="%1$s" id="raqib_%2$s" name="%3$s[%2$s]" value="%4$s" class="regular-text" autocomplete="off" %5$s %6$s/>',
			$secret ? 'password' : 'text',
			esc_attr( $name ),
			esc_attr( self::OPTION ),
			$secret ? '' : esc_attr( self::get( $name ) ),
			$fixed ? 'disabled' : '',
			$secret && $is_set ? 'placeholder="' . esc_attr__( 'set: leave empty to keep it', 'raqib' ) . '"' : ''
		);
		if ( $fixed ) {
			/* translators: %s: name of a PHP constant. */
			echo '<p class="description">' . esc_html( sprintf( __( 'Set in wp-config.php by %s.', 'raqib' ), $constant ) ) . '</p>';
		}
	}

	/**
	 * The settings page, with the webhook address to give raqibd.
	 */
	public static function render_page() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		echo '<div class="wrap"><h1>' . esc_html( get_admin_page_title() ) . '</h1>';
		echo '<form action="options.php" method="post">';
		settings_fields( self::PAGE );
		do_settings_sections( self::PAGE );
		submit_button();
		echo '</form>';
		echo '<h2>' . esc_html__( 'Decisions from Raqib', 'raqib' ) . '</h2>';
		echo '<p>' . esc_html__( 'In raqibd\'s configuration, set webhook_url to this address and webhook_secret to the secret above:', 'raqib' ) . '</p>';
		echo '<p><code>' . esc_html( self::webhook_url() ) . '</code></p>';
		echo '</div>';
	}
}
