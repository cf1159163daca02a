/* Small helpers every module uses: checked allocation, time, the diagnostics log. */
#ifndef BRUM_CORE_UTIL_H
#define BRUM_CORE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory: run the registered hook (the TUI restores the terminal), print, abort. */
_Noreturn void util_die_oom(void);
void util_set_fatal_hook(void (*hook)(void));
void* xmalloc(size_t n);
void* xcalloc(size_t n, size_t size);
void* xrealloc(void* p, size_t n);
char* xstrdup(const char* s);
char* xstrndup(const char* s, size_t n);
/* printf into a fresh heap string. */
char* xasprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/* One UTF-8 sequence of s[0..n) (n >= 1): its length, or 1 for an invalid byte (*cp = U+FFFD). */
size_t util_utf8_decode(const char* s, size_t n, uint32_t* cp);
/* C0 and C1 controls and DEL: what a terminal acts on instead of showing. */
static inline int util_is_control(uint32_t cp) {
   return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}
/* A heap copy of s safe to print to a terminal, as the TUI draws text: controls become U+00B7,
 * invalid UTF-8 U+FFFD. For names and other text brum prints but did not write. */
char* util_sanitize(const char* s);
/* Terminal columns of sanitised text (wcwidth in the current locale; 1 where it is unknown). */
size_t util_cols(const char* s);

/* A heap message for a negative errno (or libuv error, the same on Unix): strerror's text, or
 * for -EMFILE "too many open files (limit N): raise it with ulimit -n" (what to do). */
char* util_strerror(int err);
/* Prints "brum: WHAT: REASON" (util_strerror) on stderr, for a setup step that failed. */
void util_report(const char* what, int err);

uint64_t util_now_ms(void);  /* wall clock, ms since the epoch */
uint64_t util_mono_ns(void); /* monotonic clock */
/* Decimal seconds, "2", "0.5", ".25", "10.", 0 <= value <= max: strtod would also take hex
 * ("0x10" is 16), "inf", "1e3" and whitespace, and reads "0,5" in some locales; parsed by hand,
 * locale-free. 0, -EINVAL or -ERANGE. */
int util_parse_seconds(const char* s, double max, double* out);

/* Opens path without ever blocking (O_NONBLOCK: a FIFO or a device answers at once), then checks
 * the descriptor itself (a check of the path first would race): only a regular file is accepted.
 * Returns the descriptor (O_CLOEXEC, blocking again), or -EISDIR, -EINVAL (a FIFO, device or
 * socket) or open's errno, with *why (heap, the caller frees) saying it in words, without the
 * path: "it is a FIFO (named pipe), not a regular file ...". why may be NULL. */
int util_open_regular(const char* path, int flags, int mode, char** why);

/* Reads the whole regular file at path, at most max bytes, into a NUL-terminated heap buffer
 * (*len without the NUL). Errors as util_open_regular, plus -EFBIG when it is larger than max
 * (*why gives its size and the limit) and read's errno. */
int util_read_file(const char* path, size_t max, char** out, size_t* len, char** why);

/* "64 MiB", "70.0 MiB", "512 KiB", "300 bytes": a size as people read it. */
char* util_size_str(uint64_t bytes);

/* Diagnostics go to a file while curses owns the screen; NULL path: $XDG_STATE_HOME/brum/brum.log.
 * Appends to a regular file only (a FIFO or device is refused; it never blocks). */
int util_log_open(const char* path);
/* Like util_log_open; on failure *cause (heap, the caller frees; cause may be NULL) says which
 * file and why: "cannot write the log FILE: it is a directory, not a file". */
int util_log_open_cause(const char* path, char** cause);
void util_log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void util_log_close(void);

/* FNV-1a over n bytes, continuing from h (UTIL_HASH_START to begin). */
#define UTIL_HASH_START UINT64_C(14695981039346656037)
uint64_t util_hash(const void* data, size_t n, uint64_t h);
/* An open-addressing table's size for n keys: a power of two, at least 16 and 2n. */
size_t util_table_size(size_t n);

#endif
