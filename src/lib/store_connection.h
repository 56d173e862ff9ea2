/* store_connection: the connections table (calendar connections agents read through the CalDAV client). */
#ifndef AP_STORE_CONNECTION_H
#define AP_STORE_CONNECTION_H

#include "arena.h"
#include "db.h"

/* The providers a connection can have today ('caldav'); OAuth providers are added here later. */
#define CONNECTION_PROVIDER_CALDAV "caldav"

/* One live connection (strings in the arena; RFC 3339 times or NULL; URL and CREDENTIAL_ID may be NULL for
 * providers that have none). STATUS is "active" or "error". */
typedef struct connection_row {
	char *id, *account_id, *provider, *display_name, *account_label, *url, *credential_id;
	char *status, *last_error;
	char *last_synced_at, *created_at, *updated_at;
} connection_row;

/* A page of at most LIMIT of ACCOUNT_ID's live connections, newest first, ids below BEFORE_ID (NULL: first
 * page), into *ROWS (arena). */
enum store_result store_connection_list(db *d, arena *a, const char *account_id, const char *before_id, int limit,
					connection_row **rows, int *n);
/* Live connection ID of ACCOUNT_ID; STORE_NOT_FOUND otherwise (absent, deleted, another account's). */
enum store_result store_connection_get(db *d, arena *a, const char *account_id, const char *id, connection_row *out);
/* Inserts connection ID (made by the caller with ids_new("conn_")) of ACCOUNT_ID, status active. ACCOUNT_LABEL,
 * URL and CREDENTIAL_ID may be NULL. */
enum store_result store_connection_insert(db *d, arena *a, const char *account_id, const char *id,
					  const char *provider, const char *display_name, const char *account_label,
					  const char *url, const char *credential_id);
/* Soft-deletes live connection ID of ACCOUNT_ID; STORE_NOT_FOUND when there is none. */
enum store_result store_connection_delete(db *d, arena *a, const char *account_id, const char *id);
/* Records a use of connection ID: ERROR NULL -> status active, last_error NULL, last_synced_at now; otherwise
 * status error with ERROR (client-safe text, cut to 600 characters), last_synced_at unchanged. */
enum store_result store_connection_record(db *d, arena *a, const char *account_id, const char *id, const char *error);
/* The ids of ACCOUNT_ID's live connections (status active or error), newest first, at most MAX, into *IDS (arena). */
enum store_result store_connection_ids(db *d, arena *a, const char *account_id, int max, char ***ids, int *n);

#endif
