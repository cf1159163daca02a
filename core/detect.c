/* Log intelligence, the entry points: a Detector's life, detect_line (the order of the steps
 * below) and snapshots. The steps live in detect_scan.c (trigger words), detect_rules.c (the
 * rule table), detect_group.c (entries and their lines), detect_loc.c (source locations),
 * detect_summary.c (test and build results) and detect_url.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/detect_impl.h"
#include "core/logstore.h"
#include "core/util.h"

/* How a line is classified, cheapest first:
 *  1. an open group (error above) tests whether the line continues it (a few byte checks);
 *  2. one pass over the line finds the 4-byte trigger words ("rror", "warn", "fail", "p://",
 *     "✘ ", ...; ASCII case folded), collecting word families. With SSSE3 (checked at run time)
 *     16 positions at a time are screened by their first 3 bytes with nibble tables (the
 *     "Teddy" technique: 8 buckets of words, a position survives if its 3 bytes fit one bucket's
 *     nibbles); without it, the 3-byte fragment at every even offset is looked up in a small hash
 *     table. Either way only a surviving position looks up the exact word in the trigger hash;
 *  3. only the rules whose families occur and whose lead byte fits (a bitset of candidate rules
 *     per family and per lead byte) and whose required literal is in the line run their PCRE2
 *     (JIT) pattern; JSON level rules first check the value after "level" by hand.
 * A plain log line has no trigger word, so it costs step 2 only. */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void detect_init(void) {
   detect_scan_init();
   detect_rules_init();
}

void detect_init_once(void) {
   pthread_once(&init_once, detect_init);
}

Detector* detect_new(void) {
   detect_init_once();
   Detector* d = xcalloc(1, sizeof *d);
   d->md = detect_match_data_new();
   if (!d->md) util_die_oom();
   d->last_rule = -1;
   d->tests_fresh = true;
   return d;
}

void detect_free(Detector* d) {
   if (!d) return;
   pcre2_match_data_free(d->md);
   for (uint32_t i = 0; i < d->nurls; i++) free(d->urls[i].url);
   detect_entries_free(d);
   free(d);
}

void detect_restart(Detector* d) {
   d->open = false;
   d->eslint_file[0] = '\0';
   d->tests_fresh = true;
}

bool detect_changed(const Detector* d) {
   return d->changed;
}

/* Length of a leading timestamp and the blanks after it: `2024-01-01T10:00:00.123Z `,
 * `2024/01/01 10:00:00,123 `, `[10:00:00] `, `[2024-01-01 10:00:00] `, `10:00:00 AM `. */
static uint32_t skip_stamp(const char* s, uint32_t n) {
   if (!n) return 0;
   uint32_t i = 0;
   if (s[0] == '[') {
      if (n < 3 || !is_digit(s[1])) return 0;
      const char* close = memchr(s, ']', n < 40 ? n : 40);
      if (!close) return 0;
      uint32_t k = (uint32_t)(close - s);
      if (!memchr(s, ':', k) && !memchr(s, '-', k)) return 0;
      i = k + 1;
   } else if (is_digit(s[0])) {
      uint32_t d = 0;
      while (d < n && is_digit(s[d])) d++;
      if (d == 4 && n > 10 && (s[4] == '-' || s[4] == '/') && is_digit(s[5]) && is_digit(s[6]) &&
          s[7] == s[4] && is_digit(s[8]) && is_digit(s[9])) {
         i = 10; /* a date; a time may follow */
         if (i < n && (s[i] == 'T' || s[i] == ' ') && i + 1 < n && is_digit(s[i + 1]))
            i++;
         else if (i < n && !is_space(s[i]))
            return 0;
      }
      if (i + 8 <= n && is_digit(s[i]) && is_digit(s[i + 1]) && s[i + 2] == ':' &&
          is_digit(s[i + 3]) && is_digit(s[i + 4]) && s[i + 5] == ':' && is_digit(s[i + 6]) &&
          is_digit(s[i + 7])) {
         i += 8;
         if (i < n && (s[i] == '.' || s[i] == ',')) {
            i++;
            while (i < n && is_digit(s[i])) i++;
         }
         if (i < n && s[i] == 'Z')
            i++;
         else if (i + 3 <= n && (s[i] == '+' || s[i] == '-') && is_digit(s[i + 1])) {
            i++;
            while (i < n && (is_digit(s[i]) || s[i] == ':')) i++;
         }
         if (i + 3 <= n && s[i] == ' ' && (s[i + 1] == 'A' || s[i + 1] == 'P') && s[i + 2] == 'M')
            i += 3;
      }
      if (i == 0) return 0;
   } else {
      return 0;
   }
   if (i >= n || !is_space(s[i])) return 0; /* a stamp is followed by a blank */
   while (i < n && s[i] == ' ') i++;
   return i;
}

uint16_t detect_line(Detector* d, const char* text, uint32_t len, uint64_t lineno,
                     uint64_t time_ms) {
   d->last_rule = -1;
   d->in_use = false;
   if (!text) text = "", len = 0;
   uint32_t st = skip_stamp(text, len);
   const char* s = text + st;
   uint32_t n = len - st;
   uint16_t flags = 0;
   bool grouped = false;

   if (d->open) {
      if (lineno - newest(d)->first >= DETECT_GROUP_MAX_LINES)
         d->open = false;
      else {
         int k = detect_group_continues(d, s, n);
         if (k == C_GROUP || k == C_GROUP_LAST) {
            detect_group_add(d, s, n, lineno, k == C_GROUP_LAST);
            flags |= LINE_GROUPED;
            grouped = true;
         } else if (k == C_BLANK) {
            d->blanks++;
            return 0;
         } else {
            d->open = false;
         }
      }
   }

   uint32_t mask = detect_trigger_mask(s, n);
   d->in_use = mask & TW_INUSE;
   mask &= ~(uint32_t)TW_INUSE;
   if (!grouped) detect_note_file_line(d, s, n);
   if (mask & ~(uint32_t)TW_URL) {
      uint32_t b;
      uint32_t ind = indent_of(s, n, &b);
      uint8_t lead = b < n ? (uint8_t)s[b] : 0;
      if ((mask & TW_LEVEL) && (lead != '{' || !detect_json_level_value(s, n)))
         mask &= ~(uint32_t)TW_LEVEL;
      flags |= detect_run_rules(d, mask, s, n, ind, lead, !grouped, lineno, time_ms);
   }
   if ((mask & TW_URL) && detect_scan_urls(d, s, n, lineno, time_ms)) flags |= LINE_URL;
   return flags;
}

/* ------------------------------------------------------------------ snapshots */

static size_t align8(size_t n) {
   return (n + 7) & ~(size_t)7;
}

DetectSnap* detect_snapshot(Detector* d) {
   size_t off_e = align8(sizeof(DetectSnap));
   size_t off_u = align8(off_e + d->ent_n * sizeof(DetectEntry));
   size_t off_s = off_u + d->nurls * sizeof(DetectUrl);
   size_t strings = 0;
   for (uint32_t i = 0; i < d->ent_n; i++) {
      const Entry* e = &d->ent[(d->ent_head + i) % d->ent_cap];
      strings += e->tlen + 1u + (e->llen ? e->llen + 1u : 0);
   }
   for (uint32_t i = 0; i < d->nurls; i++) strings += strlen(d->urls[i].url) + 1;

   char* mem = xmalloc(off_s + strings);
   DetectSnap* snap = (DetectSnap*)(void*)mem;
   DetectEntry* ents = (DetectEntry*)(void*)(mem + off_e);
   DetectUrl* urls = (DetectUrl*)(void*)(mem + off_u);
   char* sp = mem + off_s;
   memset(snap, 0, sizeof *snap);
   for (uint32_t i = 0; i < d->ent_n; i++) {
      const Entry* e = &d->ent[(d->ent_head + i) % d->ent_cap];
      DetectEntry* o = &ents[i];
      o->kind = e->kind;
      o->first_line = e->first;
      o->last_line = e->last;
      o->time_ms = e->time_ms;
      o->rule = e->rule;
      size_t k = e->tlen + 1u;
      memcpy(sp, entry_title(e), k);
      o->title = sp;
      sp += k;
      o->location = NULL;
      if (e->llen) {
         k = e->llen + 1u;
         memcpy(sp, entry_loc(e), k);
         o->location = sp;
         sp += k;
      }
   }
   for (uint32_t i = 0; i < d->nurls; i++) {
      size_t k = strlen(d->urls[i].url) + 1;
      memcpy(sp, d->urls[i].url, k);
      urls[i] = (DetectUrl){.url = sp,
                            .label = d->urls[i].label,
                            .lineno = d->urls[i].lineno,
                            .time_ms = d->urls[i].time_ms};
      sp += k;
   }
   snap->errors = d->errors;
   snap->warnings = d->warnings;
   snap->nentries = d->ent_n;
   snap->nurls = d->nurls;
   snap->entries = ents;
   snap->urls = urls;
   snap->tests = d->tests;
   snap->build = d->build;
   d->changed = false;
   return snap;
}

void detect_snap_free_rcu(struct rcu_head* head) {
   free(caa_container_of(head, DetectSnap, rcu));
}
