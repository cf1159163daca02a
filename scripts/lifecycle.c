/* Lifecycle scripts: what npm runs around install, pack, publish and version, and the
 * pre<x>/post<x> of a script <x> (run around it), which the UI hides until asked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "scripts/pkg.h"

bool pkg_lifecycle_name(const char* name) {
   static const char* const names[] = {"preinstall", "install",  "postinstall", "prepublish",
                                       "preprepare", "prepare",  "postprepare", "prepublishOnly",
                                       "prepack",    "postpack", "publish",     "postpublish",
                                       "preversion", "version",  "postversion", "dependencies"};
   for (size_t i = 0; i < sizeof names / sizeof *names; i++)
      if (strcmp(name, names[i]) == 0) return true;
   return false;
}

/* The script's name in its package: "dev" for "web:dev". */
static const char* bare_name(const Script* s) {
   if (s->in_workspace && s->package) {
      size_t pl = strlen(s->package);
      if (strncmp(s->name, s->package, pl) == 0 && s->name[pl] == ':') return s->name + pl + 1;
   }
   return s->name;
}

/* Is there a package script `name` (n bytes) in package `pkg`? (table: script index + 1) */
static bool has_script(const Project* p, const uint32_t* table, size_t cap, size_t pkg,
                       const char* name, size_t n) {
   size_t h = (size_t)util_hash(name, n, UTIL_HASH_START ^ pkg) & (cap - 1);
   for (; table[h]; h = (h + 1) & (cap - 1)) {
      const Script* s = &p->scripts[table[h] - 1];
      const char* b = bare_name(s);
      if (s->pkg == pkg && strncmp(b, name, n) == 0 && b[n] == '\0') return true;
   }
   return false;
}

bool* pkg_lifecycle_flags(const Project* p) {
   if (!p || !p->nscripts) return NULL;
   size_t cap = util_table_size(p->nscripts);
   uint32_t* table = xcalloc(cap, sizeof *table);
   for (size_t i = 0; i < p->nscripts; i++) {
      const Script* s = &p->scripts[i];
      if (s->source != SRC_PACKAGE) continue;
      const char* b = bare_name(s);
      size_t h = (size_t)util_hash(b, strlen(b), UTIL_HASH_START ^ s->pkg);
      for (h &= cap - 1; table[h]; h = (h + 1) & (cap - 1)) {
      }
      table[h] = (uint32_t)i + 1;
   }
   bool* out = xcalloc(p->nscripts, sizeof *out);
   for (size_t i = 0; i < p->nscripts; i++) {
      const Script* s = &p->scripts[i];
      if (s->source != SRC_PACKAGE) continue;
      const char* b = bare_name(s);
      size_t n = strlen(b);
      out[i] =
          pkg_lifecycle_name(b) ||
          (n > 3 && strncmp(b, "pre", 3) == 0 && has_script(p, table, cap, s->pkg, b + 3, n - 3)) ||
          (n > 4 && strncmp(b, "post", 4) == 0 && has_script(p, table, cap, s->pkg, b + 4, n - 4));
   }
   free(table);
   return out;
}
