/* fuzz_ical: ical_collect on arbitrary bytes over a fixed two-week window; every instance must overlap it, and
 * the work spent stays within the budget. */
#include "arena.h"
#include "ical.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 2026-03-23 00:00 UTC .. 2026-04-06: the window spans a European DST change. */
#define FROM ((int64_t)1774224000)
#define TO (FROM + 14 * 86400)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = arena_new();
	ical_list l;
	char err[200];
	memset(&l, 0, sizeof l);
	if (ical_collect(a, (const char *)data, size, FROM, TO, &l, err, sizeof err) == 0) {
		ical_sort(&l);
		if (l.n < 0 || l.n > ICAL_MAX_INSTANCES)
			abort();
		/* The work budget is overrun by at most one step: a few zone conversions and a period. */
		if (l.work < 0 || l.work > ICAL_MAX_WORK + 200000)
			abort();
		for (int i = 0; i < l.n; i++) {
			const ical_event *e = &l.ev[i];
			if (e->end < e->start || e->start >= TO || (e->end <= FROM && !(e->end == e->start && e->start >= FROM)))
				abort();
			if (i > 0 && l.ev[i - 1].start > e->start)
				abort();
		}
	} else if (!err[0]) {
		abort();
	}
	arena_free(a);
	return 0;
}
