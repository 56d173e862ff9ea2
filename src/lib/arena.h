/* arena: per-request (or per-job) memory that is released in one step, with cleanups for foreign objects. */
#ifndef AP_ARENA_H
#define AP_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena;

/* A new empty arena; free with arena_free. Out of memory aborts. */
arena *arena_new(void);
/* Runs the cleanups (last registered first) and releases everything; keeps one block for reuse. */
void arena_reset(arena *a);
void arena_free(arena *a);

/* N bytes, zeroed, aligned for any type; valid until the next reset. */
void *arena_alloc(arena *a, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers FN(P) to run at reset/free: how jansson, hiredis and MariaDB objects die with the request. */
void arena_defer(arena *a, void (*fn)(void *), void *p);

#endif
