/* fake_server: a small HTTP server on 127.0.0.1 for the e2e suites: Open-Meteo answers and a few test routes. */
#ifndef AP_FAKE_SERVER_H
#define AP_FAKE_SERVER_H

#include <stddef.h>

/* Routes (GET unless noted; every answer closes the connection):
 *   /v1/search?name=N&count=1&language=en&format=json   Open-Meteo geocoding: one result named N (latitude
 *       40.7143, longitude -74.006, country "Testland"); N "Nowhere": no result; "Garbage": a non-JSON 200;
 *       "Broken": 500.
 *   /v1/forecast?latitude=..&longitude=..&current=..&daily=..   Open-Meteo forecast: 7.2 °C now (code 3),
 *       high 9.1 / low 3.0, 20% rain (temperature_unit=fahrenheit: 45, 48.4 / 37.4); latitude=1.0000: a
 *       JSON answer of the wrong shape.
 *   /slow?ms=N       answers 200 "slow done" after N ms (at most 30000)
 *   /status/N        answers status N with {"status": N}
 *   POST|PUT /echo   answers 200 {"method", "body", "content_type", "x_test"} (x_test: the X-Test header)
 *   REPORT /caldav/<anything>/   CalDAV: a 207 multistatus with one event ("Standup", 2030-01-15 10:00-10:30 UTC,
 *       location "Room 1"); /caldav/denied/: 401.
 * Anything else: 404. */

/* Starts the server on an ephemeral port of 127.0.0.1 in its own thread. Returns the port, or -1. */
int fake_server_start(void);
/* Stops accepting connections and joins the server thread (requests in flight finish on their own). */
void fake_server_stop(void);
/* The number of requests so far whose target (path and query) starts with PREFIX; the most recent such
 * target is copied into LAST (LASTLEN bytes, may be NULL). */
int fake_server_seen(const char *prefix, char *last, size_t lastlen);

#endif
