/*
 * The auth-check benchmark's load generator: like mosquitto-auth-plug, a new TCP connection
 * for every request, the request bytes sent whole, only the status code read.
 *
 * Why C: on a 2-core machine a Node.js generator spent as much CPU per request as the bare
 * server it measured (socket objects, streams, promises per connection), so it set the pace
 * for both sides and every throughput ratio sat near 1 by construction. This one keeps a few
 * hundred bytes per connection and makes only the system calls a request needs.
 *
 * Usage:
 *   http-loadgen HOST PORT REQUESTS_FILE MODE CONCURRENCY RATE DURATION_MS WARMUP_MS
 *   MODE closed: CONCURRENCY requests back to back (RATE is ignored, pass 0).
 *   MODE open:   RATE (a decimal) requests per second on a fixed schedule, never early;
 *                CONCURRENCY is ignored. Latency counts from the instant a request was due,
 *                so a stalled server (or generator) cannot hide its queue.
 *   REQUESTS_FILE: each request a 4-byte big-endian length and its bytes, sent round-robin.
 * Writes one JSON report to stdout: latencies (ms), meanSendLagMs, statuses, errors, sent,
 * distinct. Exit status 2 for bad arguments or input, with the reason on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* The most requests an open-loop run lets pile up before it counts new ones as errors. */
#define MAX_OUTSTANDING 512
/* After the run, answers still missing this long are counted as errors, not waited for. */
#define DRAIN_LIMIT_MS 10000.0
/* "HTTP/1.1 200" holds the status in bytes 9-11; a status line is read up to its CRLF. */
#define STATUS_START 9
#define HEAD_BYTES 64
#define EVENTS_PER_WAIT 256
#define MAX_REQUEST_BYTES (16 * 1024 * 1024)
#define TIMER_TAG UINT64_MAX

struct request {
	const uint8_t *bytes;
	size_t length;
};

struct conn {
	int fd;
	size_t request;
	size_t written;
	double intended_ms;
	size_t head_length;
	char head[HEAD_BYTES];
	bool in_use;
};

struct run {
	struct sockaddr_in address;
	struct request *requests;
	size_t request_count;
	bool open_loop;
	long concurrency;
	double interval_ms;
	double measure_from_ms;
	double end_ms;

	int epoll_fd;
	struct conn *conns;
	size_t conn_slots;
	size_t in_flight;

	size_t sent;
	size_t errors;
	double lag_sum_ms;
	size_t lag_count;
	double *latencies;
	size_t latency_count;
	size_t latency_capacity;
	size_t statuses[1000];
};

static void fail(const char *message, const char *detail)
{
	fprintf(stderr, "http-loadgen: %s%s%s\n", message, detail == NULL ? "" : ": ",
		detail == NULL ? "" : detail);
	exit(2);
}

static double now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

static long parse_long(const char *text, const char *name, long min, long max)
{
	char *end = NULL;
	errno = 0;
	long value = strtol(text, &end, 10);

	if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
		fail("not an integer in range", name);
	}

	return value;
}

static double parse_rate(const char *text)
{
	char *end = NULL;
	errno = 0;
	double value = strtod(text, &end);

	if (errno != 0 || end == text || *end != '\0' || !(value >= 0) || value > 1e7) {
		fail("RATE is not a number from 0 to 10000000", text);
	}

	return value;
}

static void *grow(void *items, size_t count, size_t size)
{
	void *grown = realloc(items, count * size);

	if (grown == NULL) {
		fail("out of memory", NULL);
	}

	return grown;
}

/* The whole file stays in memory; requests point into it. */
static void read_requests(struct run *run, const char *path)
{
	FILE *file = fopen(path, "rb");

	if (file == NULL) {
		fail("cannot open the requests file", path);
	}

	struct stat info;

	if (fstat(fileno(file), &info) != 0 || info.st_size <= 0) {
		fail("the requests file is empty or unreadable", path);
	}

	uint8_t *data = grow(NULL, (size_t)info.st_size, 1);

	if (fread(data, 1, (size_t)info.st_size, file) != (size_t)info.st_size) {
		fail("cannot read the requests file", path);
	}

	fclose(file);

	size_t offset = 0;
	size_t total = (size_t)info.st_size;

	while (offset < total) {
		if (total - offset < 4) {
			fail("the requests file ends inside a length", path);
		}

		size_t length = ((size_t)data[offset] << 24) | ((size_t)data[offset + 1] << 16) |
				((size_t)data[offset + 2] << 8) | (size_t)data[offset + 3];
		offset += 4;

		if (length == 0 || length > MAX_REQUEST_BYTES || length > total - offset) {
			fail("the requests file holds a request of a bad length", path);
		}

		run->requests = grow(run->requests, run->request_count + 1, sizeof(struct request));
		run->requests[run->request_count].bytes = data + offset;
		run->requests[run->request_count].length = length;
		run->request_count += 1;
		offset += length;
	}
}

static struct conn *free_slot(struct run *run)
{
	for (size_t index = 0; index < run->conn_slots; index++) {
		if (!run->conns[index].in_use) {
			return &run->conns[index];
		}
	}

	size_t old = run->conn_slots;
	run->conn_slots = old == 0 ? 64 : old * 2;
	run->conns = grow(run->conns, run->conn_slots, sizeof(struct conn));
	memset(run->conns + old, 0, (run->conn_slots - old) * sizeof(struct conn));

	return &run->conns[old];
}

static void record_latency(struct run *run, double latency_ms)
{
	if (run->latency_count == run->latency_capacity) {
		run->latency_capacity = run->latency_capacity == 0 ? 65536 : run->latency_capacity * 2;
		run->latencies = grow(run->latencies, run->latency_capacity, sizeof(double));
	}

	run->latencies[run->latency_count++] = latency_ms;
}

static void finish(struct run *run, struct conn *conn, int status)
{
	epoll_ctl(run->epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
	close(conn->fd);
	conn->in_use = false;
	run->in_flight -= 1;

	if (conn->intended_ms < run->measure_from_ms) {
		return;
	}

	if (status < 0) {
		run->errors += 1;
		return;
	}

	record_latency(run, now_ms() - conn->intended_ms);
	run->statuses[status] += 1;
}

/* Starts one request, due at `intended_ms`; a socket that cannot even start is an error. */
static void start(struct run *run, double intended_ms)
{
	size_t request = run->sent % run->request_count;
	run->sent += 1;

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		run->errors += intended_ms >= run->measure_from_ms ? 1 : 0;
		return;
	}

	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if (connect(fd, (struct sockaddr *)&run->address, sizeof(run->address)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		run->errors += intended_ms >= run->measure_from_ms ? 1 : 0;
		return;
	}

	struct conn *conn = free_slot(run);
	*conn = (struct conn){ .fd = fd, .request = request, .intended_ms = intended_ms, .in_use = true };
	run->in_flight += 1;

	struct epoll_event event = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP,
				     .data.u64 = (uint64_t)(conn - run->conns) };

	if (epoll_ctl(run->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
		finish(run, conn, -1);
	}
}

/* Writes what is left of the request, then half-closes as the Node.js generator did. */
static bool send_rest(struct run *run, struct conn *conn)
{
	const struct request *request = &run->requests[conn->request];

	while (conn->written < request->length) {
		ssize_t wrote = send(conn->fd, request->bytes + conn->written,
				     request->length - conn->written, MSG_NOSIGNAL);

		if (wrote < 0) {
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}

		conn->written += (size_t)wrote;
	}

	shutdown(conn->fd, SHUT_WR);
	struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP,
				     .data.u64 = (uint64_t)(conn - run->conns) };
	epoll_ctl(run->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event);

	return true;
}

/* The status code once the status line is in, -1 while it is not, -2 when it never will be. */
static int read_status(struct conn *conn)
{
	for (;;) {
		size_t room = HEAD_BYTES - 1 - conn->head_length;

		if (room == 0) {
			return -2;
		}

		ssize_t got = recv(conn->fd, conn->head + conn->head_length, room, 0);

		if (got == 0) {
			return -2;
		}

		if (got < 0) {
			return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
		}

		conn->head_length += (size_t)got;
		conn->head[conn->head_length] = '\0';

		if (strstr(conn->head, "\r\n") != NULL) {
			int status = 0;

			for (int digit = 0; digit < 3; digit++) {
				char c = conn->head[STATUS_START + digit];

				if (c < '0' || c > '9') {
					return -2;
				}

				status = status * 10 + (c - '0');
			}

			return status;
		}
	}
}

static void handle(struct run *run, struct epoll_event *event)
{
	struct conn *conn = &run->conns[event->data.u64];

	if (!conn->in_use) {
		return;
	}

	const struct request *request = &run->requests[conn->request];

	if (conn->written < request->length) {
		int error = 0;
		socklen_t size = sizeof(error);

		if ((event->events & (EPOLLERR | EPOLLHUP)) != 0 ||
		    getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0 ||
		    !send_rest(run, conn)) {
			finish(run, conn, -1);
		}

		return;
	}

	int status = read_status(conn);

	if (status != -1) {
		finish(run, conn, status < 0 ? -1 : status);
	}
}

static void arm_timer(int timer_fd, double due_ms)
{
	struct itimerspec spec = { 0 };
	double seconds = due_ms / 1000.0;
	spec.it_value.tv_sec = (time_t)seconds;
	spec.it_value.tv_nsec = (long)((seconds - (double)spec.it_value.tv_sec) * 1e9);

	/* A zero it_value disarms the timer; a due time of exactly 0 cannot occur. */
	if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) {
		spec.it_value.tv_nsec = 1;
	}

	timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

static void wait_and_handle(struct run *run, int timeout_ms)
{
	struct epoll_event events[EVENTS_PER_WAIT];
	int count = epoll_wait(run->epoll_fd, events, EVENTS_PER_WAIT, timeout_ms);

	for (int index = 0; index < count; index++) {
		if (events[index].data.u64 == TIMER_TAG) {
			continue;
		}

		handle(run, &events[index]);
	}
}

static void run_closed(struct run *run)
{
	while (now_ms() < run->end_ms) {
		while ((long)run->in_flight < run->concurrency && now_ms() < run->end_ms) {
			start(run, now_ms());
		}

		wait_and_handle(run, 10);
	}
}

/* The timerfd (absolute, CLOCK_MONOTONIC) wakes the loop at each due time, never before. */
static void run_open(struct run *run, double start_ms)
{
	int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (timer_fd < 0) {
		fail("cannot create a timer", strerror(errno));
	}

	struct epoll_event event = { .events = EPOLLIN, .data.u64 = TIMER_TAG };
	epoll_ctl(run->epoll_fd, EPOLL_CTL_ADD, timer_fd, &event);

	double next = start_ms;

	while (next < run->end_ms) {
		double now = now_ms();

		while (next <= now && next < run->end_ms) {
			if (next >= run->measure_from_ms) {
				run->lag_sum_ms += now - next;
				run->lag_count += 1;
			}

			if (run->in_flight >= MAX_OUTSTANDING) {
				run->errors += next >= run->measure_from_ms ? 1 : 0;
			} else {
				start(run, next);
			}

			next += run->interval_ms;
		}

		if (next < run->end_ms) {
			uint64_t expirations;
			ssize_t ignored = read(timer_fd, &expirations, sizeof(expirations));
			(void)ignored;
			arm_timer(timer_fd, next);
			wait_and_handle(run, -1);
		}
	}

	close(timer_fd);
}

static void drain(struct run *run)
{
	double limit = now_ms() + DRAIN_LIMIT_MS;

	while (run->in_flight > 0 && now_ms() < limit) {
		wait_and_handle(run, 10);
	}

	for (size_t index = 0; index < run->conn_slots; index++) {
		if (run->conns[index].in_use) {
			finish(run, &run->conns[index], -1);
		}
	}
}

static void report(const struct run *run)
{
	fputs("{\"latencies\":[", stdout);

	for (size_t index = 0; index < run->latency_count; index++) {
		printf(index == 0 ? "%.4f" : ",%.4f", run->latencies[index]);
	}

	printf("],\"meanSendLagMs\":%.4f,\"statuses\":{",
	       run->lag_count == 0 ? 0.0 : run->lag_sum_ms / (double)run->lag_count);
	bool first = true;

	for (int status = 0; status < 1000; status++) {
		if (run->statuses[status] > 0) {
			printf("%s\"%d\":%zu", first ? "" : ",", status, run->statuses[status]);
			first = false;
		}
	}

	printf("},\"errors\":%zu,\"sent\":%zu,\"distinct\":%zu}\n", run->errors, run->sent,
	       run->request_count);
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fail("usage: http-loadgen HOST PORT REQUESTS_FILE closed|open CONCURRENCY RATE "
		     "DURATION_MS WARMUP_MS",
		     NULL);
	}

	static struct run run;
	run.address.sin_family = AF_INET;
	run.address.sin_port = htons((uint16_t)parse_long(argv[2], "PORT", 1, 65535));

	if (inet_pton(AF_INET, argv[1], &run.address.sin_addr) != 1) {
		fail("HOST is not a numeric IPv4 address", argv[1]);
	}

	read_requests(&run, argv[3]);

	if (strcmp(argv[4], "closed") == 0) {
		run.open_loop = false;
	} else if (strcmp(argv[4], "open") == 0) {
		run.open_loop = true;
	} else {
		fail("MODE must be closed or open", argv[4]);
	}

	run.concurrency = parse_long(argv[5], "CONCURRENCY", 1, 100000);
	double rate = parse_rate(argv[6]);
	long duration_ms = parse_long(argv[7], "DURATION_MS", 1, 86400000);
	long warmup_ms = parse_long(argv[8], "WARMUP_MS", 0, 86400000);

	if (run.open_loop && rate == 0) {
		fail("an open-loop run needs a RATE above 0", NULL);
	}

	run.interval_ms = run.open_loop ? 1000.0 / rate : 0;
	run.epoll_fd = epoll_create1(EPOLL_CLOEXEC);

	if (run.epoll_fd < 0) {
		fail("cannot create an epoll instance", strerror(errno));
	}

	double start_ms = now_ms();
	run.measure_from_ms = start_ms + (double)warmup_ms;
	run.end_ms = run.measure_from_ms + (double)duration_ms;

	if (run.open_loop) {
		run_open(&run, start_ms);
	} else {
		run_closed(&run);
	}

	drain(&run);
	report(&run);

	return 0;
}
