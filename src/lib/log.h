/* log: leveled one-line log records to stderr or an append-only file. */
#ifndef AP_LOG_H
#define AP_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the threshold and destination (PATH NULL: stderr). PROGRAM names the process in each line.
 * Returns 0, or -1 if PATH cannot be opened for appending. */
int log_open(const char *program, int level, const char *path);
void log_close(void);

/* "debug" | "info" | "warn" | "error" -> level, or -1. */
int log_level_parse(const char *name);

/* Writes one line: "<RFC 3339 time> <level> <program>[pid] <message>". Each line is written with a
 * single write(2) so lines from several processes never interleave. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
