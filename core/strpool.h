/* An interning pool of strings: each distinct string is stored once and lives as long as the
 * pool. The supervisor keeps the launch descriptions of its processes in one, since scripts of a
 * project share almost their whole environment. One thread at a time. */
#ifndef BRUM_CORE_STRPOOL_H
#define BRUM_CORE_STRPOOL_H

#include <stddef.h>

typedef struct StrPool StrPool;

StrPool* strpool_new(void);
void strpool_free(StrPool* sp); /* frees every string it handed out */
/* The pool's copy of s (equal strings: the same pointer). */
const char* strpool_intern(StrPool* sp, const char* s);
/* Distinct strings held, and the bytes they and the table take (for tests and measurements). */
size_t strpool_count(const StrPool* sp);
size_t strpool_bytes(const StrPool* sp);

#endif
