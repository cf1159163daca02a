/* Notes brum adds to the findings after the fact (the holder of a port a server failed to bind). */
#include <stdio.h>
#include <string.h>

#include "core/detect_impl.h"

void detect_note(Detector* d, uint64_t lineno, uint64_t time_ms, const char* note) {
   for (uint32_t i = 0; i < d->ent_n; i++) {
      Entry* e = &d->ent[(d->ent_head + d->ent_n - 1 - i) % d->ent_cap];
      if (lineno < e->first || lineno > e->last) continue;
      size_t k = strlen(e->title);
      snprintf(e->title + k, sizeof e->title - k, " (%s)", note);
      d->changed = true;
      return;
   }
   d->open = false; /* an entry of its own: the open group (if any) ends before it */
   Entry* e = detect_entry_push(d);
   e->kind = DETECT_ERROR;
   e->first = e->last = lineno;
   e->time_ms = time_ms;
   e->rule = "port";
   snprintf(e->title, sizeof e->title, "%s", note);
   d->errors++;
   d->changed = true;
}
