#include <stdio.h>
#include <string.h>

#include "beckon-test-auth.h"

/* mosquitto-auth-plug's aclcheck body carries this text where a client id would be. */
#define PLUG_ACL_CLIENT_ID "client id not available"
/* Every lookup that is not an ACL check says acc=-1 in the plug's body. */
#define PLUG_NO_ACC "-1"
/* Longest decimal int with its sign and terminator. */
#define INT_TEXT_BYTES 12

static const char HEX_DIGITS[] = "0123456789ABCDEF";
static const char BASE64_DIGITS[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static bool is_unreserved(unsigned char byte)
{
	return (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
		(byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' ||
		byte == '~';
}

/* The plug's form values: every byte but the unreserved ones as %XX, a space too. */
static void append_percent_encoded(struct bta_buffer *out, const char *value)
{
	for (const unsigned char *byte = (const unsigned char *)value; *byte != '\0'; byte++) {
		if (is_unreserved(*byte)) {
			bta_buffer_append(out, byte, 1);
		} else {
			char escaped[3] = { '%', HEX_DIGITS[*byte >> 4], HEX_DIGITS[*byte & 0x0f] };
			bta_buffer_append(out, escaped, sizeof escaped);
		}
	}
}

static void append_base64(struct bta_buffer *out, const struct bta_buffer *in)
{
	const unsigned char *bytes = (const unsigned char *)in->data;

	for (size_t i = 0; i < in->length; i += 3) {
		size_t left = in->length - i;
		unsigned long group = (unsigned long)bytes[i] << 16;

		group |= left > 1 ? (unsigned long)bytes[i + 1] << 8 : 0;
		group |= left > 2 ? bytes[i + 2] : 0;

		char quad[4] = {
			BASE64_DIGITS[(group >> 18) & 0x3f],
			BASE64_DIGITS[(group >> 12) & 0x3f],
			left > 1 ? BASE64_DIGITS[(group >> 6) & 0x3f] : '=',
			left > 2 ? BASE64_DIGITS[group & 0x3f] : '=',
		};
		bta_buffer_append(out, quad, sizeof quad);
	}
}

/* The http backend's own credentials header: the MQTT username and password, raw. */
static void append_credentials_header(struct bta_buffer *out, const struct bta_ask *ask)
{
	struct bta_buffer pair = { 0 };

	bta_buffer_append_text(&pair, ask->username);
	bta_buffer_append_text(&pair, ":");

	if (ask->question == BTA_GETUSER) {
		bta_buffer_append_text(&pair, ask->password);
	}

	out->failed |= pair.failed;
	bta_buffer_append_text(out, "Authorization: Basic ");
	append_base64(out, &pair);
	bta_buffer_append_text(out, "\r\n");
	bta_buffer_free(&pair);
}

/* Fields in the plug's fixed order; clientid is the one value it does not encode. */
static void append_plug_body(struct bta_buffer *out, const struct bta_ask *ask)
{
	char acc[INT_TEXT_BYTES];
	bool acl = ask->question == BTA_ACLCHECK;

	snprintf(acc, sizeof acc, "%d", ask->acc);
	bta_buffer_append_text(out, "username=");
	append_percent_encoded(out, ask->username);
	bta_buffer_append_text(out, "&password=");
	append_percent_encoded(out, ask->question == BTA_GETUSER ? ask->password : "");
	bta_buffer_append_text(out, "&topic=");
	append_percent_encoded(out, acl ? ask->topic : "");
	bta_buffer_append_text(out, "&acc=");
	bta_buffer_append_text(out, acl ? acc : PLUG_NO_ACC);
	bta_buffer_append_text(out, "&clientid=");
	bta_buffer_append_text(out, acl ? PLUG_ACL_CLIENT_ID : "");
}

/* A JSON string as Go's encoding/json writes it, HTML-safe escapes included. */
static void append_go_json_string(struct bta_buffer *out, const char *value)
{
	bta_buffer_append_text(out, "\"");

	for (const unsigned char *byte = (const unsigned char *)value; *byte != '\0'; byte++) {
		char escaped[7];
		bool line_separator = byte[0] == 0xe2 && byte[1] == 0x80 &&
			(byte[2] == 0xa8 || byte[2] == 0xa9);

		if (*byte == '"' || *byte == '\\') {
			snprintf(escaped, sizeof escaped, "\\%c", *byte);
		} else if (*byte == '\n' || *byte == '\r' || *byte == '\t') {
			snprintf(escaped, sizeof escaped, "\\%c",
					*byte == '\n' ? 'n' : *byte == '\r' ? 'r' : 't');
		} else if (*byte < 0x20 || *byte == '<' || *byte == '>' || *byte == '&') {
			snprintf(escaped, sizeof escaped, "\\u%04x", *byte);
		} else if (line_separator) {
			int separator = byte[2] == 0xa8 ? 0x2028 : 0x2029;

			snprintf(escaped, sizeof escaped, "\\u%04x", separator);
			byte += 2;
		} else {
			bta_buffer_append(out, byte, 1);
			continue;
		}

		bta_buffer_append_text(out, escaped);
	}

	bta_buffer_append_text(out, "\"");
}

static void append_go_json_field(struct bta_buffer *out, const char *name, const char *value,
		bool last)
{
	append_go_json_string(out, name);
	bta_buffer_append_text(out, ":");
	append_go_json_string(out, value);
	bta_buffer_append_text(out, last ? "}" : ",");
}

/* go-auth marshals a Go map, so the keys come sorted. */
static void append_go_auth_body(struct bta_buffer *out, const struct bta_ask *ask)
{
	char acc[INT_TEXT_BYTES];

	bta_buffer_append_text(out, "{");

	switch (ask->question) {
	case BTA_GETUSER:
		append_go_json_field(out, "clientid", ask->client_id, false);
		append_go_json_field(out, "password", ask->password, false);
		append_go_json_field(out, "username", ask->username, true);
		break;
	case BTA_SUPERUSER:
		append_go_json_field(out, "username", ask->username, true);
		break;
	case BTA_ACLCHECK:
		snprintf(acc, sizeof acc, "%d", ask->acc);
		append_go_json_string(out, "acc");
		bta_buffer_append_text(out, ":");
		bta_buffer_append_text(out, acc);
		bta_buffer_append_text(out, ",");
		append_go_json_field(out, "clientid", ask->client_id, false);
		append_go_json_field(out, "topic", ask->topic, false);
		append_go_json_field(out, "username", ask->username, true);
		break;
	}
}

static const char *uri_of(const struct bta_options *options, enum bta_question question)
{
	switch (question) {
	case BTA_GETUSER:
		return options->getuser_uri;
	case BTA_SUPERUSER:
		return options->superuser_uri;
	case BTA_ACLCHECK:
		return options->aclcheck_uri;
	}

	return NULL;
}

/* Header order as each client writes it: libcurl for the plug, Go's net/http for go-auth. */
static void append_head(struct bta_buffer *out, const struct bta_options *options,
		const struct bta_ask *ask, size_t body_length)
{
	char length[INT_TEXT_BYTES * 2];
	bool plug = options->mode == BTA_MODE_PLUG;

	snprintf(length, sizeof length, "%zu", body_length);
	bta_buffer_append_text(out, "POST ");
	bta_buffer_append_text(out, uri_of(options, ask->question));
	bta_buffer_append_text(out, " HTTP/1.1\r\nHost: ");
	bta_buffer_append_text(out, options->host_header);
	bta_buffer_append_text(out, "\r\n");

	if (plug) {
		if (options->basic_auth_key == NULL) {
			append_credentials_header(out, ask);
		}

		bta_buffer_append_text(out, "Accept: */*\r\n");

		if (options->basic_auth_key != NULL) {
			bta_buffer_append_text(out, "Authorization: Basic ");
			bta_buffer_append_text(out, options->basic_auth_key);
			bta_buffer_append_text(out, "\r\n");
		}
	} else {
		bta_buffer_append_text(out, "User-Agent: mosquitto\r\n");
	}

	bta_buffer_append_text(out, "Content-Length: ");
	bta_buffer_append_text(out, length);
	bta_buffer_append_text(out, plug
			? "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
			: "\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n");
	bta_buffer_append_text(out, "\r\n");
}

bool bta_request_build(struct bta_buffer *out, const struct bta_options *options,
		const struct bta_ask *ask)
{
	struct bta_buffer body = { 0 };

	if (options->mode == BTA_MODE_PLUG) {
		append_plug_body(&body, ask);
	} else {
		append_go_auth_body(&body, ask);
	}

	append_head(out, options, ask, body.length);
	bta_buffer_append(out, body.data, body.length);

	bool built = !body.failed && !out->failed;

	bta_buffer_free(&body);
	return built;
}
