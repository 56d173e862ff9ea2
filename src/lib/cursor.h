/* cursor: opaque pagination cursors (keyset on the id) and their strict decoding. */
#ifndef AP_CURSOR_H
#define AP_CURSOR_H

#include "ids.h"

#define CURSOR_MAX_LEN 64

/* Encodes the last id of a page into OUT (CURSOR_MAX_LEN bytes). */
void cursor_encode(const char *last_id, char out[CURSOR_MAX_LEN]);

/* Decodes TEXT into an id that must have PREFIX. Returns 0, or -1 for anything garbled. */
int cursor_decode(const char *text, const char *prefix, char id[IDS_MAX_LEN]);

#endif
