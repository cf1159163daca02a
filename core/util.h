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

uint64_t util_now_ms(void);  /* wall clock, ms since the epoch */
uint64_t util_mono_ns(void); /* monotonic clock */

/* Diagnostics go to a file while curses owns the screen; NULL path: $XDG_STATE_HOME/brum/brum.log.
 */
int util_log_open(const char* path);
void util_log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void util_log_close(void);

#endif
