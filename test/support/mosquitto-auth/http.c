#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "beckon-test-auth.h"

/* Bounds on an answer; the auth-service's are a status line, a few headers and no body. */
#define MAX_HEAD_BYTES 8192
#define MAX_BODY_BYTES 65536
#define READ_CHUNK_BYTES 4096
#define NS_PER_MS 1000000L
#define MS_PER_S 1000L
#define HTTP_STATUS_DIGITS 3

enum read_state { READ_OK, READ_CLOSED, READ_FAILED };

/* One request's fate on one connection. */
struct outcome {
	enum bta_answer answer;
	/* A reused connection that the server had closed: worth one more try on a new one. */
	bool stale;
	bool reusable;
	const char *reason;
};

/* What the head of an answer says about its framing. */
struct head {
	int status;
	long content_length;
	bool closes;
};

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * MS_PER_S + now.tv_nsec / NS_PER_MS;
}

/* Waits until `fd` is ready for `events` or the deadline passes; false on the deadline. */
static bool wait_for(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();

		if (left <= 0) {
			return false;
		}

		struct pollfd entry = { .fd = fd, .events = events };
		int ready = poll(&entry, 1, (int)left);

		if (ready > 0) {
			return true;
		}

		if (ready < 0 && errno != EINTR) {
			return false;
		}
	}
}

static int open_connection(const struct sockaddr_in *address, long long deadline,
		const char **reason)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int on = 1;

	*reason = "could not connect";

	if (fd < 0) {
		return -1;
	}

	// Both plugins' clients disable Nagle: a request is one write that must not wait for ACKs.
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

	if (connect(fd, (const struct sockaddr *)address, sizeof *address) == 0) {
		return fd;
	}

	int error = errno;
	socklen_t size = sizeof error;

	if (error == EINPROGRESS) {
		if (!wait_for(fd, POLLOUT, deadline)) {
			*reason = "timed out connecting";
			close(fd);
			return -1;
		}

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
	}

	if (error != 0) {
		close(fd);
		return -1;
	}

	return fd;
}

static enum read_state send_all(int fd, const struct bta_buffer *request, long long deadline)
{
	size_t sent = 0;

	while (sent < request->length) {
		size_t left = request->length - sent;
		ssize_t written = send(fd, request->data + sent, left, MSG_NOSIGNAL);

		if (written > 0) {
			sent += (size_t)written;
		} else if (written < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!wait_for(fd, POLLOUT, deadline)) {
				return READ_FAILED;
			}
		} else {
			return errno == EPIPE || errno == ECONNRESET ? READ_CLOSED : READ_FAILED;
		}
	}

	return READ_OK;
}

/* Reads what is there, up to `room` bytes; READ_CLOSED at the end of the stream. */
static enum read_state receive(int fd, char *into, size_t room, size_t *got, long long deadline)
{
	for (;;) {
		ssize_t count = recv(fd, into, room, 0);

		if (count > 0) {
			*got = (size_t)count;
			return READ_OK;
		}

		if (count == 0 || errno == ECONNRESET) {
			return READ_CLOSED;
		}

		if ((errno != EAGAIN && errno != EINTR) || !wait_for(fd, POLLIN, deadline)) {
			return READ_FAILED;
		}
	}
}

static const char *find_head_end(const char *data, size_t length)
{
	for (size_t i = 0; i + 4 <= length; i++) {
		if (memcmp(data + i, "\r\n\r\n", 4) == 0) {
			return data + i;
		}
	}

	return NULL;
}

/* "HTTP/1.x NNN" followed by a space or the end of the line. */
static bool parse_status_line(const char *line, size_t length, struct head *head)
{
	static const size_t PREFIX = sizeof "HTTP/1.x " - 1;

	if (length < PREFIX + HTTP_STATUS_DIGITS || memcmp(line, "HTTP/1.", 7) != 0 ||
			(line[7] != '0' && line[7] != '1') || line[8] != ' ') {
		return false;
	}

	head->status = 0;

	for (size_t i = PREFIX; i < PREFIX + HTTP_STATUS_DIGITS; i++) {
		if (line[i] < '0' || line[i] > '9') {
			return false;
		}

		head->status = head->status * 10 + (line[i] - '0');
	}

	// HTTP/1.0 closes after each answer unless it says otherwise; the plugins never ask it to.
	head->closes = line[7] == '0';
	return length == PREFIX + HTTP_STATUS_DIGITS || line[PREFIX + HTTP_STATUS_DIGITS] == ' ';
}

static bool header_is(const char *line, size_t name_length, const char *name)
{
	return name_length == strlen(name) && strncasecmp(line, name, name_length) == 0;
}

/* Digits only, at most MAX_BODY_BYTES; anything else is not an answer we can frame. */
static bool parse_length(const char *value, size_t length, long *out)
{
	long parsed = 0;

	if (length == 0) {
		return false;
	}

	for (size_t i = 0; i < length; i++) {
		if (value[i] < '0' || value[i] > '9') {
			return false;
		}

		parsed = parsed * 10 + (value[i] - '0');

		if (parsed > MAX_BODY_BYTES) {
			return false;
		}
	}

	*out = parsed;
	return true;
}

static bool contains_close(const char *value, size_t length)
{
	for (size_t i = 0; i + 5 <= length; i++) {
		if (strncasecmp(value + i, "close", 5) == 0) {
			return true;
		}
	}

	return false;
}

static bool parse_header_line(const char *line, size_t length, struct head *head)
{
	const char *colon = memchr(line, ':', length);

	if (colon == NULL || colon == line) {
		return false;
	}

	size_t name_length = (size_t)(colon - line);
	const char *value = colon + 1;
	size_t value_length = length - name_length - 1;

	while (value_length > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		value_length--;
	}

	while (value_length > 0 && (value[value_length - 1] == ' ' ||
			value[value_length - 1] == '\t')) {
		value_length--;
	}

	if (header_is(line, name_length, "content-length")) {
		return head->content_length < 0 && parse_length(value, value_length,
				&head->content_length);
	}

	// The auth-service never sends chunked answers; a stand-in must not guess at one.
	if (header_is(line, name_length, "transfer-encoding")) {
		return false;
	}

	if (header_is(line, name_length, "connection") && contains_close(value, value_length)) {
		head->closes = true;
	}

	return true;
}

static bool parse_head(const char *data, size_t length, struct head *head)
{
	const char *end = data + length;
	const char *line = data;
	bool first = true;

	head->content_length = -1;

	while (line < end) {
		const char *eol = line;

		while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n')) {
			eol++;
		}

		if (eol + 1 >= end) {
			eol = end;
		}

		size_t line_length = (size_t)(eol - line);
		bool parsed = first ? parse_status_line(line, line_length, head)
			: parse_header_line(line, line_length, head);

		if (!parsed) {
			return false;
		}

		first = false;
		line = eol + 2;
	}

	return !first;
}

/* 2xx yes, 5xx an error, anything else (3xx: redirects are not followed, 4xx) no. */
static enum bta_answer answer_of(int status)
{
	if (status >= 200 && status <= 299) {
		return BTA_YES;
	}

	return status >= 500 ? BTA_ERROR : BTA_NO;
}

static struct outcome failed(const char *reason)
{
	return (struct outcome){ .answer = BTA_ERROR, .reason = reason };
}

/* Reads and drops the body that follows the head; `already` bytes of it came with the head. */
static struct outcome read_body(int fd, const struct head *head, size_t already,
		long long deadline)
{
	bool bodiless = head->status == 204 || head->status == 304;
	long expected = bodiless ? 0 : head->content_length;
	size_t read_total = already;
	char chunk[READ_CHUNK_BYTES];

	while (expected < 0 || (long)read_total < expected) {
		size_t got = 0;
		enum read_state state = receive(fd, chunk, sizeof chunk, &got, deadline);

		if (state == READ_CLOSED && expected < 0) {
			return (struct outcome){ .answer = answer_of(head->status) };
		}

		if (state != READ_OK) {
			return failed(state == READ_CLOSED ? "answer cut short"
					: "timed out reading");
		}

		read_total += got;

		if (read_total > MAX_BODY_BYTES) {
			return failed("answer body too large");
		}
	}

	// Bytes beyond the body would be read as the next answer: such a connection is not reused.
	bool exact = (long)read_total == expected;

	return (struct outcome){
		.answer = answer_of(head->status),
		.reusable = exact && !head->closes,
	};
}

static struct outcome exchange(int fd, const struct bta_buffer *request, bool reused,
		long long deadline)
{
	enum read_state sent = send_all(fd, request, deadline);

	if (sent != READ_OK) {
		return (struct outcome){
			.answer = BTA_ERROR,
			.stale = reused && sent == READ_CLOSED,
			.reason = "could not send",
		};
	}

	char data[MAX_HEAD_BYTES];
	size_t length = 0;
	const char *head_end = NULL;

	while (head_end == NULL) {
		size_t got = 0;
		enum read_state state = length == sizeof data ? READ_FAILED
			: receive(fd, data + length, sizeof data - length, &got, deadline);

		if (state != READ_OK) {
			bool nothing = state == READ_CLOSED && length == 0;

			return (struct outcome){
				.answer = BTA_ERROR,
				.stale = reused && nothing,
				.reason = length == sizeof data ? "answer head too large"
					: nothing ? "closed without an answer"
					: "no complete answer",
			};
		}

		length += got;
		head_end = find_head_end(data, length);
	}

	struct head head = { 0 };
	size_t head_length = (size_t)(head_end - data);

	if (!parse_head(data, head_length, &head) || head.status < 200) {
		return failed("malformed answer");
	}

	return read_body(fd, &head, length - head_length - 4, deadline);
}

/* An idle kept connection with something to read was closed (or garbled) by the server. */
static bool idle_connection_usable(int fd)
{
	struct pollfd entry = { .fd = fd, .events = POLLIN };

	return poll(&entry, 1, 0) == 0;
}

void bta_connection_close(struct bta_connection *connection)
{
	if (connection->fd >= 0) {
		close(connection->fd);
		connection->fd = -1;
	}
}

enum bta_answer bta_http_ask(struct bta_connection *kept, bool keep_alive,
		const struct sockaddr_in *address, const struct bta_buffer *request, int timeout_ms,
		const char **reason)
{
	long long deadline = now_ms() + timeout_ms;

	if (keep_alive && kept->fd >= 0 && idle_connection_usable(kept->fd)) {
		struct outcome outcome = exchange(kept->fd, request, true, deadline);

		if (!outcome.stale) {
			if (!outcome.reusable) {
				bta_connection_close(kept);
			}

			*reason = outcome.reason;
			return outcome.answer;
		}
	}

	bta_connection_close(kept);

	int fd = open_connection(address, deadline, reason);

	if (fd < 0) {
		return BTA_ERROR;
	}

	struct outcome outcome = exchange(fd, request, false, deadline);

	if (keep_alive && outcome.reusable) {
		kept->fd = fd;
	} else {
		close(fd);
	}

	*reason = outcome.reason;
	return outcome.answer;
}
