/* Notes brum adds to the findings after the fact (the holder of a port a server failed to bind). */
#include <stdio.h>
#include <string.h>

#include "core/detect_impl.h"

void detect_note(Detector* d, uint64_t lineno, uint64_t time_ms, const char* note) {
   for (uint32_t i = 0; i < d->ent_n; i++) {
      Entry* e = &d->ent[(d->ent_head + d->ent_n - 1 - i) % d->ent_cap];
      if (lineno < e->first || lineno > e->last) continue;
      char title[TITLE_MAX + 1];
      snprintf(title, sizeof title, "%s (%s)", entry_title(e), note);
      detect_entry_set_title(e, title);
      d->changed = true;
      return;
   }
   d->open = false; /* an entry of its own: the open group (if any) ends before it */
   Entry* e = detect_entry_push(d);
   e->kind = DETECT_ERROR;
   e->first = e->last = lineno;
   e->time_ms = time_ms;
   e->rule = "port";
   char title[TITLE_MAX + 1];
   snprintf(title, sizeof title, "%s", note);
   detect_entry_set_title(e, title);
   d->errors++;
   d->changed = true;
}
