#include <stdlib.h>
#include <string.h>

#include "beckon-test-auth.h"

/* No request or answer the plugin handles comes near this; a bug or garbage would. */
#define BTA_BUFFER_MAX_BYTES (1024 * 1024)
#define BTA_BUFFER_FIRST_BYTES 512

void bta_buffer_append(struct bta_buffer *buffer, const void *bytes, size_t length)
{
	if (buffer->failed || length == 0) {
		return;
	}

	if (length > BTA_BUFFER_MAX_BYTES - buffer->length) {
		buffer->failed = true;
		return;
	}

	size_t needed = buffer->length + length;

	if (needed > buffer->capacity) {
		size_t capacity = buffer->capacity == 0 ? BTA_BUFFER_FIRST_BYTES : buffer->capacity;

		while (capacity < needed) {
			capacity *= 2;
		}

		char *grown = realloc(buffer->data, capacity);

		if (grown == NULL) {
			buffer->failed = true;
			return;
		}

		buffer->data = grown;
		buffer->capacity = capacity;
	}

	memcpy(buffer->data + buffer->length, bytes, length);
	buffer->length = needed;
}

void bta_buffer_append_text(struct bta_buffer *buffer, const char *text)
{
	bta_buffer_append(buffer, text, strlen(text));
}

void bta_buffer_free(struct bta_buffer *buffer)
{
	free(buffer->data);
	*buffer = (struct bta_buffer){ 0 };
}
