#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "beckon-test-auth.h"

#define PLUGIN_API_VERSION 5

struct plugin {
	mosquitto_plugin_id_t *identifier;
	struct bta_options options;
	/* go-auth's one kept-alive connection; Mosquitto asks one question at a time. */
	struct bta_connection connection;
};

static const char *question_name(enum bta_question question)
{
	switch (question) {
	case BTA_GETUSER:
		return "getuser";
	case BTA_SUPERUSER:
		return "superuser";
	case BTA_ACLCHECK:
		return "aclcheck";
	}

	return "unknown";
}

/* One question, with the plug's back-to-back retries on an error; logs no credentials. */
static enum bta_answer ask(struct plugin *plugin, const struct bta_ask *question)
{
	struct bta_buffer request = { 0 };
	const struct bta_options *options = &plugin->options;

	if (!bta_request_build(&request, options, question)) {
		bta_buffer_free(&request);
		mosquitto_log_printf(MOSQ_LOG_WARNING, "%s: %s request could not be built",
				BTA_LOG_PREFIX, question_name(question->question));
		return BTA_ERROR;
	}

	enum bta_answer answer = BTA_ERROR;

	for (int attempt = 0; attempt < options->attempts && answer == BTA_ERROR; attempt++) {
		const char *reason = NULL;

		answer = bta_http_ask(&plugin->connection, options->mode == BTA_MODE_GO_AUTH,
				&options->address, &request, options->timeout_ms, &reason);

		if (answer == BTA_ERROR) {
			mosquitto_log_printf(MOSQ_LOG_WARNING, "%s: %s request failed: %s",
					BTA_LOG_PREFIX, question_name(question->question),
					reason == NULL ? "server error" : reason);
		}
	}

	bta_buffer_free(&request);
	return answer;
}

static const char *client_id_of(struct mosquitto *client)
{
	const char *id = mosquitto_client_id(client);

	return id == NULL ? "" : id;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct plugin *plugin = userdata;
	struct mosquitto_evt_basic_auth *data = event_data;

	(void)event;

	// The plug says no to a missing or empty username or password without asking; go-auth
	// refuses only missing ones and sends empty strings on.
	bool plug = plugin->options.mode == BTA_MODE_PLUG;

	if (data->username == NULL || data->password == NULL ||
			(plug && (data->username[0] == '\0' || data->password[0] == '\0'))) {
		return MOSQ_ERR_AUTH;
	}

	struct bta_ask question = {
		.question = BTA_GETUSER,
		.username = data->username,
		.password = data->password,
		.client_id = client_id_of(data->client),
	};

	switch (ask(plugin, &question)) {
	case BTA_YES:
		return MOSQ_ERR_SUCCESS;
	case BTA_NO:
		return MOSQ_ERR_AUTH;
	case BTA_ERROR:
		break;
	}

	// Not a refusal: the broker drops the client without a CONNACK, as with the real plugins.
	return MOSQ_ERR_UNKNOWN;
}

static int acl_result(enum bta_answer answer)
{
	switch (answer) {
	case BTA_YES:
		return MOSQ_ERR_SUCCESS;
	case BTA_NO:
		return MOSQ_ERR_ACL_DENIED;
	case BTA_ERROR:
		break;
	}

	return MOSQ_ERR_UNKNOWN;
}

static bool has_wildcard_or_level(const char *username)
{
	return strpbrk(username, "/+#") != NULL;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct plugin *plugin = userdata;
	struct mosquitto_evt_acl_check *data = event_data;
	const char *username = mosquitto_client_username(data->client);

	(void)event;

	// Both plugins are v4 auth plugins, which Mosquitto 2 never asks about an UNSUBSCRIBE.
	if (data->access == MOSQ_ACL_UNSUBSCRIBE) {
		return MOSQ_ERR_SUCCESS;
	}

	// The plug refuses these without a request: such a name could match other clients' topics.
	bool plug = plugin->options.mode == BTA_MODE_PLUG;

	if (username == NULL || data->topic == NULL || (plug && has_wildcard_or_level(username))) {
		return MOSQ_ERR_ACL_DENIED;
	}

	enum bta_answer superuser = BTA_NO;

	if (plugin->options.superuser_uri != NULL) {
		struct bta_ask question = {
			.question = BTA_SUPERUSER,
			.username = username,
			.client_id = client_id_of(data->client),
		};

		superuser = ask(plugin, &question);
	}

	if (superuser == BTA_YES) {
		return MOSQ_ERR_SUCCESS;
	}

	struct bta_ask question = {
		.question = BTA_ACLCHECK,
		.username = username,
		.topic = data->topic,
		.acc = data->access,
		.client_id = client_id_of(data->client),
	};
	enum bta_answer acl = ask(plugin, &question);

	// A no that may only be a no because the superuser question failed is an error.
	return acl_result(acl == BTA_NO && superuser == BTA_ERROR ? BTA_ERROR : acl);
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == PLUGIN_API_VERSION) {
			return PLUGIN_API_VERSION;
		}
	}

	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	struct plugin *plugin = calloc(1, sizeof *plugin);

	if (plugin == NULL) {
		return MOSQ_ERR_NOMEM;
	}

	plugin->identifier = identifier;
	plugin->connection.fd = -1;

	if (!bta_options_parse(&plugin->options, options, option_count)) {
		free(plugin);
		return MOSQ_ERR_INVAL;
	}

	int registered = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth,
			NULL, plugin);

	if (registered == MOSQ_ERR_SUCCESS) {
		registered = mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK,
				on_acl_check, NULL, plugin);

		if (registered != MOSQ_ERR_SUCCESS) {
			mosquitto_callback_unregister(identifier, MOSQ_EVT_BASIC_AUTH,
					on_basic_auth, NULL);
		}
	}

	if (registered != MOSQ_ERR_SUCCESS) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "%s: could not register its callbacks",
				BTA_LOG_PREFIX);
		bta_options_free(&plugin->options);
		free(plugin);
		return registered;
	}

	*userdata = plugin;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "%s: asking in mode %s", BTA_LOG_PREFIX,
			plugin->options.mode == BTA_MODE_PLUG ? "plug" : "go-auth");
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	struct plugin *plugin = userdata;

	(void)options;
	(void)option_count;

	if (plugin == NULL) {
		return MOSQ_ERR_SUCCESS;
	}

	mosquitto_callback_unregister(plugin->identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
	mosquitto_callback_unregister(plugin->identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	bta_connection_close(&plugin->connection);
	bta_options_free(&plugin->options);
	free(plugin);
	return MOSQ_ERR_SUCCESS;
}
