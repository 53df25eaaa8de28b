#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "beckon-test-auth.h"

/* mosquitto-auth-plug's fixed per-request timeout and default http_retry_count. */
#define PLUG_TIMEOUT_MS 10000
#define PLUG_DEFAULT_RETRY_COUNT 3
#define PLUG_MAX_RETRY_COUNT 10
/* mosquitto-go-auth's default http_timeout. */
#define GO_AUTH_DEFAULT_TIMEOUT_S 5
#define GO_AUTH_MAX_TIMEOUT_S 60
#define MS_PER_S 1000
#define HTTP_DEFAULT_PORT 80
#define MAX_PORT 65535
/* Bounds on what goes verbatim into a request head; real values are far shorter. */
#define MAX_URI_BYTES 1024
#define MAX_HOSTNAME_BYTES 253
#define MAX_KEY_BYTES 1024

/* What the options say before they are checked against each other. */
struct raw_options {
	const char *mode;
	const char *host;
	const char *port;
	const char *getuser_uri;
	const char *superuser_uri;
	const char *aclcheck_uri;
	const char *disable_superuser;
	const char *hostname;
	const char *basic_auth_key;
	const char *retry_count;
	const char *timeout;
};

struct known_option {
	const char *name;
	size_t offset;
};

static const struct known_option KNOWN_OPTIONS[] = {
	{ "mode", offsetof(struct raw_options, mode) },
	{ "http_host", offsetof(struct raw_options, host) },
	{ "http_port", offsetof(struct raw_options, port) },
	{ "http_getuser_uri", offsetof(struct raw_options, getuser_uri) },
	{ "http_superuser_uri", offsetof(struct raw_options, superuser_uri) },
	{ "http_aclcheck_uri", offsetof(struct raw_options, aclcheck_uri) },
	{ "disable_superuser", offsetof(struct raw_options, disable_superuser) },
	{ "http_hostname", offsetof(struct raw_options, hostname) },
	{ "http_basic_auth_key", offsetof(struct raw_options, basic_auth_key) },
	{ "http_retry_count", offsetof(struct raw_options, retry_count) },
	{ "http_timeout", offsetof(struct raw_options, timeout) },
};

#define KNOWN_OPTION_COUNT (sizeof(KNOWN_OPTIONS) / sizeof(KNOWN_OPTIONS[0]))

static bool refuse(const char *name, const char *expected, const char *got)
{
	mosquitto_log_printf(MOSQ_LOG_ERR, "%s: plugin_opt_%s must be %s, got %s", BTA_LOG_PREFIX,
			name, expected, got);
	return false;
}

/* Option values are not secrets, except the key; this quotes one for an error message. */
static const char *quoted(const char *value, char *out, size_t size)
{
	snprintf(out, size, "\"%.64s\"%s", value, strlen(value) > 64 ? "..." : "");
	return out;
}

static bool refuse_value(const char *name, const char *expected, const char *value)
{
	char shown[80];

	return refuse(name, expected,
			value == NULL ? "nothing" : quoted(value, shown, sizeof shown));
}

static bool sort_into_fields(struct raw_options *raw, const struct mosquitto_opt *given, int count)
{
	for (int i = 0; i < count; i++) {
		const struct known_option *known = NULL;

		if (given[i].key == NULL) {
			mosquitto_log_printf(MOSQ_LOG_ERR, "%s: an option without a name",
					BTA_LOG_PREFIX);
			return false;
		}

		for (size_t k = 0; k < KNOWN_OPTION_COUNT; k++) {
			if (strcmp(given[i].key, KNOWN_OPTIONS[k].name) == 0) {
				known = &KNOWN_OPTIONS[k];
			}
		}

		if (known == NULL) {
			mosquitto_log_printf(MOSQ_LOG_ERR, "%s: unknown option plugin_opt_%.64s",
					BTA_LOG_PREFIX, given[i].key);
			return false;
		}

		const char **field = (const char **)((char *)raw + known->offset);

		if (*field != NULL) {
			mosquitto_log_printf(MOSQ_LOG_ERR, "%s: plugin_opt_%s is given twice",
					BTA_LOG_PREFIX, known->name);
			return false;
		}

		*field = given[i].value == NULL ? "" : given[i].value;
	}

	return true;
}

/* A whole number in [min, max], written in decimal digits only. */
static bool parse_int(const char *text, long min, long max, long *out)
{
	if (text == NULL || *text < '0' || *text > '9') {
		return false;
	}

	char *end = NULL;
	errno = 0;
	long value = strtol(text, &end, 10);

	if (errno != 0 || *end != '\0' || value < min || value > max) {
		return false;
	}

	*out = value;
	return true;
}

/* Printable ASCII without spaces: safe to put into a request head as it is. */
static bool is_visible(const char *text, size_t max_bytes)
{
	size_t length = strlen(text);

	if (length == 0 || length > max_bytes) {
		return false;
	}

	for (size_t i = 0; i < length; i++) {
		if (text[i] < 0x21 || text[i] > 0x7e) {
			return false;
		}
	}

	return true;
}

static bool is_hostname(const char *text)
{
	size_t length = strlen(text);

	if (length == 0 || length > MAX_HOSTNAME_BYTES) {
		return false;
	}

	for (size_t i = 0; i < length; i++) {
		char c = text[i];
		bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '-' || c == '.';

		if (!allowed) {
			return false;
		}
	}

	return true;
}

static bool parse_uri(const char *name, const char *value, char **out)
{
	if (value == NULL || value[0] != '/' || !is_visible(value, MAX_URI_BYTES)) {
		return refuse_value(name, "a path starting with / and without spaces", value);
	}

	*out = strdup(value);
	return *out != NULL;
}

static bool parse_flag(const char *name, const char *value, bool *out)
{
	if (value == NULL) {
		*out = false;
		return true;
	}

	if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
		return refuse_value(name, "true or false", value);
	}

	*out = strcmp(value, "true") == 0;
	return true;
}

/* Options that only one mode reads are refused in the other, so a typo cannot go unnoticed. */
static bool refuse_foreign(const struct raw_options *raw, enum bta_mode mode)
{
	const char *stray = NULL;

	if (mode == BTA_MODE_GO_AUTH) {
		stray = raw->hostname != NULL ? "http_hostname"
			: raw->basic_auth_key != NULL ? "http_basic_auth_key"
			: raw->retry_count != NULL ? "http_retry_count"
			: NULL;
	} else if (raw->timeout != NULL) {
		stray = "http_timeout";
	}

	if (stray != NULL) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "%s: plugin_opt_%s is not read in mode %s",
				BTA_LOG_PREFIX, stray, mode == BTA_MODE_PLUG ? "plug" : "go-auth");
		return false;
	}

	return true;
}

static bool parse_plug_only(struct bta_options *options, const struct raw_options *raw,
		long port, char *host_header)
{
	long retry_count = PLUG_DEFAULT_RETRY_COUNT;

	if (raw->retry_count != NULL &&
			!parse_int(raw->retry_count, 0, PLUG_MAX_RETRY_COUNT, &retry_count)) {
		return refuse_value("http_retry_count", "a whole number from 0 to 10",
				raw->retry_count);
	}

	if (raw->basic_auth_key != NULL) {
		if (!is_visible(raw->basic_auth_key, MAX_KEY_BYTES)) {
			return refuse("http_basic_auth_key",
					"1 to 1024 printable characters without spaces",
					"something else (not shown: it is a secret)");
		}

		options->basic_auth_key = strdup(raw->basic_auth_key);

		if (options->basic_auth_key == NULL) {
			return false;
		}
	}

	if (raw->hostname != NULL && !is_hostname(raw->hostname)) {
		return refuse_value("http_hostname", "a host name", raw->hostname);
	}

	// libcurl's default Host header leaves out the scheme's default port.
	if (raw->hostname != NULL) {
		snprintf(host_header, MAX_HOSTNAME_BYTES + 1, "%s", raw->hostname);
	} else if (port != HTTP_DEFAULT_PORT) {
		snprintf(host_header, MAX_HOSTNAME_BYTES + 1, "%s:%ld", raw->host, port);
	} else {
		snprintf(host_header, MAX_HOSTNAME_BYTES + 1, "%s", raw->host);
	}

	options->attempts = 1 + (int)retry_count;
	options->timeout_ms = PLUG_TIMEOUT_MS;
	return true;
}

static bool parse_go_auth_only(struct bta_options *options, const struct raw_options *raw,
		long port, char *host_header)
{
	long timeout_s = GO_AUTH_DEFAULT_TIMEOUT_S;

	if (raw->timeout != NULL &&
			!parse_int(raw->timeout, 1, GO_AUTH_MAX_TIMEOUT_S, &timeout_s)) {
		return refuse_value("http_timeout", "a whole number of seconds from 1 to 60",
				raw->timeout);
	}

	// Go's net/http sends the URL's host as written, and go-auth always writes the port.
	snprintf(host_header, MAX_HOSTNAME_BYTES + 1, "%s:%ld", raw->host, port);
	options->attempts = 1;
	options->timeout_ms = (int)timeout_s * MS_PER_S;
	return true;
}

static bool parse_checked(struct bta_options *options, const struct raw_options *raw)
{
	if (raw->mode == NULL || (strcmp(raw->mode, "plug") != 0 &&
			strcmp(raw->mode, "go-auth") != 0)) {
		return refuse_value("mode", "plug or go-auth", raw->mode);
	}

	options->mode = strcmp(raw->mode, "plug") == 0 ? BTA_MODE_PLUG : BTA_MODE_GO_AUTH;

	if (!refuse_foreign(raw, options->mode)) {
		return false;
	}

	// A numeric address only: a DNS lookup would block the broker's thread at every check.
	options->address.sin_family = AF_INET;

	if (raw->host == NULL || inet_pton(AF_INET, raw->host, &options->address.sin_addr) != 1) {
		return refuse_value("http_host", "an IPv4 address such as 127.0.0.1", raw->host);
	}

	long port = 0;

	if (!parse_int(raw->port, 1, MAX_PORT, &port)) {
		return refuse_value("http_port", "a whole number from 1 to 65535", raw->port);
	}

	options->address.sin_port = htons((uint16_t)port);

	bool disable_superuser = false;

	bool parsed_common =
		parse_flag("disable_superuser", raw->disable_superuser, &disable_superuser) &&
		parse_uri("http_getuser_uri", raw->getuser_uri, &options->getuser_uri) &&
		parse_uri("http_aclcheck_uri", raw->aclcheck_uri, &options->aclcheck_uri) &&
		(disable_superuser || parse_uri("http_superuser_uri", raw->superuser_uri,
				&options->superuser_uri));

	if (!parsed_common) {
		return false;
	}

	char host_header[MAX_HOSTNAME_BYTES + 1];
	bool parsed = options->mode == BTA_MODE_PLUG
		? parse_plug_only(options, raw, port, host_header)
		: parse_go_auth_only(options, raw, port, host_header);

	if (!parsed) {
		return false;
	}

	options->host_header = strdup(host_header);
	return options->host_header != NULL;
}

bool bta_options_parse(struct bta_options *options, const struct mosquitto_opt *given, int count)
{
	struct raw_options raw = { 0 };

	*options = (struct bta_options){ 0 };

	if (!sort_into_fields(&raw, given, count) || !parse_checked(options, &raw)) {
		bta_options_free(options);
		return false;
	}

	return true;
}

void bta_options_free(struct bta_options *options)
{
	free(options->host_header);
	free(options->getuser_uri);
	free(options->superuser_uri);
	free(options->aclcheck_uri);
	free(options->basic_auth_key);
	*options = (struct bta_options){ 0 };
}
