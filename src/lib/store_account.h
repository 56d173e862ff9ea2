/* store_account: the accounts table. */
#ifndef AP_STORE_ACCOUNT_H
#define AP_STORE_ACCOUNT_H

#include "arena.h"
#include "db.h"

typedef struct account_row {
	char *id, *name, *created_at; /* created_at: RFC 3339 */
} account_row;

/* Inserts a new account named NAME; writes its id into ID_OUT (IDS_MAX_LEN bytes). */
enum store_result store_account_create(db *d, arena *a, const char *name, char *id_out);
/* All accounts, oldest first, into *ROWS (arena) and *N. */
enum store_result store_account_list(db *d, arena *a, account_row **rows, int *n);
/* STORE_OK if ID exists (locking its row when FOR_UPDATE, inside a transaction), else STORE_NOT_FOUND. */
enum store_result store_account_exists(db *d, arena *a, const char *id, int for_update);

#endif
