/*
 * Beckon's test stand-in for the HTTP auth plugins Mosquitto deployments run: a Mosquitto 2
 * plugin (API v5) that asks the auth-service the way mosquitto-auth-plug's http backend
 * (mode `plug`) or mosquitto-go-auth's http backend (mode `go-auth`) does on the wire, from
 * the broker's only thread, so tests and benchmarks see the real cost of every check.
 * Written for Beckon's tests; neither plugin's source was used.
 */
#ifndef BECKON_TEST_AUTH_H
#define BECKON_TEST_AUTH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define BTA_LOG_PREFIX "beckon-test-auth"

/* ---- growable byte buffer (buffer.c) ----------------------------------------------------- */

struct bta_buffer {
	char *data;
	size_t length;
	size_t capacity;
	/* Set by the first failed append; later appends do nothing, so callers check once. */
	bool failed;
};

void bta_buffer_append(struct bta_buffer *buffer, const void *bytes, size_t length);
void bta_buffer_append_text(struct bta_buffer *buffer, const char *text);
void bta_buffer_free(struct bta_buffer *buffer);

/* ---- options (options.c) ----------------------------------------------------------------- */

enum bta_mode { BTA_MODE_PLUG, BTA_MODE_GO_AUTH };

struct bta_options {
	enum bta_mode mode;
	struct sockaddr_in address;
	/* The Host header's value: what libcurl or Go's net/http would write for this URL. */
	char *host_header;
	char *getuser_uri;
	/* NULL when superuser requests are disabled. */
	char *superuser_uri;
	char *aclcheck_uri;
	/* plug only: sent as `Authorization: Basic <key>` instead of the client's credentials. */
	char *basic_auth_key;
	/* Attempts per question on an error: 1 + http_retry_count in plug mode, 1 in go-auth. */
	int attempts;
	int timeout_ms;
};

/* Fills `options` from the plugin_opt_* lines; logs what is wrong and returns false if any is. */
struct mosquitto_opt;

bool bta_options_parse(struct bta_options *options, const struct mosquitto_opt *given, int count);
void bta_options_free(struct bta_options *options);

/* ---- request bytes (request.c) ----------------------------------------------------------- */

enum bta_question { BTA_GETUSER, BTA_SUPERUSER, BTA_ACLCHECK };

struct bta_ask {
	enum bta_question question;
	const char *username;
	/* getuser only */
	const char *password;
	/* aclcheck only */
	const char *topic;
	int acc;
	/* go-auth only: the MQTT client id */
	const char *client_id;
};

/* The whole HTTP request for one question, head and body, as the plugin of `mode` sends it. */
bool bta_request_build(struct bta_buffer *out, const struct bta_options *options,
		const struct bta_ask *ask);

/* ---- HTTP exchange (http.c) -------------------------------------------------------------- */

enum bta_answer { BTA_YES, BTA_NO, BTA_ERROR };

struct bta_connection {
	/* -1 when no connection is kept. */
	int fd;
};

/*
 * Sends `request` and reads the status of the answer within `timeout_ms`. With `keep_alive`
 * the connection is taken from and left in `kept` (go-auth); otherwise a new one is opened
 * and closed (plug). `reason` gets a short fixed text on an error, for the log.
 */
enum bta_answer bta_http_ask(struct bta_connection *kept, bool keep_alive,
		const struct sockaddr_in *address, const struct bta_buffer *request, int timeout_ms,
		const char **reason);

void bta_connection_close(struct bta_connection *connection);

#endif
