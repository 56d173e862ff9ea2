/* arena: bump allocation in chained blocks, plus a cleanup list run on reset. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (64 * 1024)
#define ALIGN 16

struct block {
	struct block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *p;
};

struct arena {
	struct block *blocks;
	struct cleanup *cleanups;
};

static struct block *block_new(size_t size)
{
	struct block *b = malloc(sizeof *b + size);
	if (!b)
		abort();
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

arena *arena_new(void)
{
	arena *a = calloc(1, sizeof *a);
	if (!a)
		abort();
	a->blocks = block_new(BLOCK_SIZE);
	return a;
}

void *arena_alloc(arena *a, size_t n)
{
	if (n == 0)
		n = 1;
	/* Rounding up and the block header must not wrap around to a tiny allocation. */
	if (n > SIZE_MAX - sizeof(struct block) - 2 * ALIGN)
		abort();
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct block *b = a->blocks;
	if (b->size - b->used < n) {
		b = block_new(n > BLOCK_SIZE ? n : BLOCK_SIZE);
		b->next = a->blocks;
		a->blocks = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *arena_strdup(arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	char *d = arena_alloc(a, (size_t)n + 1);
	vsnprintf(d, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return d;
}

void arena_defer(arena *a, void (*fn)(void *), void *p)
{
	struct cleanup *c = arena_alloc(a, sizeof *c);
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
}

void arena_reset(arena *a)
{
	/* Cleanup records live in the arena itself, so run them all before releasing blocks. */
	for (struct cleanup *c = a->cleanups; c; c = c->next)
		c->fn(c->p);
	a->cleanups = NULL;
	struct block *keep = a->blocks;
	while (keep->next) {
		struct block *next = keep->next;
		keep->next = next->next;
		free(next);
	}
	/* Keep the newest block only if it is the standard size; a huge one goes back to malloc. */
	if (keep->size != BLOCK_SIZE) {
		free(keep);
		keep = block_new(BLOCK_SIZE);
	}
	keep->used = 0;
	a->blocks = keep;
}

void arena_free(arena *a)
{
	if (!a)
		return;
	arena_reset(a);
	free(a->blocks);
	free(a);
}
