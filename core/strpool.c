/* Open addressing with linear probing on FNV-1a hashes; the table doubles at half full. */
#include "core/strpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct Ent {
   uint64_t hash;
   char* s; /* owned; NULL: empty */
} Ent;

struct StrPool {
   Ent* ents; /* owned */
   size_t mask, n, bytes;
};

static uint64_t fnv1a(const char* s, size_t* len) {
   uint64_t h = 0xcbf29ce484222325ull;
   const char* p = s;
   for (; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
   *len = (size_t)(p - s);
   return h;
}

StrPool* strpool_new(void) {
   StrPool* sp = xcalloc(1, sizeof *sp);
   sp->mask = 63;
   sp->ents = xcalloc(sp->mask + 1, sizeof *sp->ents);
   return sp;
}

void strpool_free(StrPool* sp) {
   if (!sp) return;
   for (size_t i = 0; i <= sp->mask; i++) free(sp->ents[i].s);
   free(sp->ents);
   free(sp);
}

static void grow(StrPool* sp) {
   size_t cap = (sp->mask + 1) * 2;
   Ent* ents = xcalloc(cap, sizeof *ents);
   for (size_t i = 0; i <= sp->mask; i++) {
      if (!sp->ents[i].s) continue;
      size_t j = sp->ents[i].hash & (cap - 1);
      while (ents[j].s) j = (j + 1) & (cap - 1);
      ents[j] = sp->ents[i];
   }
   free(sp->ents);
   sp->ents = ents;
   sp->mask = cap - 1;
}

const char* strpool_intern(StrPool* sp, const char* s) {
   size_t len;
   uint64_t h = fnv1a(s, &len);
   size_t i = h & sp->mask;
   for (; sp->ents[i].s; i = (i + 1) & sp->mask)
      if (sp->ents[i].hash == h && strcmp(sp->ents[i].s, s) == 0) return sp->ents[i].s;
   char* copy = xstrndup(s, len);
   sp->ents[i] = (Ent){.hash = h, .s = copy};
   sp->n++;
   sp->bytes += len + 1;
   if (sp->n * 2 > sp->mask + 1) grow(sp); /* moves the entries, not the strings */
   return copy;
}

size_t strpool_count(const StrPool* sp) {
   return sp->n;
}

size_t strpool_bytes(const StrPool* sp) {
   return sp->bytes + (sp->mask + 1) * sizeof(Ent);
}
