/* Notifications through the terminal: the bell, OSC 9 (iTerm2, kitty, WezTerm, Windows Terminal,
 * foot) and OSC 777 (urxvt's notify, also kitty, WezTerm, foot). */
#include "tui/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void notify_init(Notifier* n, NotifyMode mode, const char* project) {
   *n = (Notifier){.mode = mode == NOTIFY_UNSET ? NOTIFY_ON : mode};
   const char* tmux = getenv("TMUX");
   n->tmux = tmux && *tmux;
   snprintf(n->title, sizeof n->title, "brum%s%s", project && *project ? ": " : "",
            project ? project : "");
}

void notify_done(Notifier* n) {
   free(n->out);
   n->out = NULL;
   n->len = 0;
}

/* Text safe inside an OSC string: no C0 or C1 control (ESC, BEL, ST would end it early), and no
 * ';' in a title (OSC 777 separates the title from the body with it). */
static void clean(char* s, bool title) {
   unsigned char* u = (unsigned char*)s;
   for (size_t i = 0; u[i]; i++) {
      if (title && u[i] == ';')
         u[i] = ',';
      else if (u[i] < 0x20 || u[i] == 0x7f)
         u[i] = ' ';
      if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) u[i] = u[i + 1] = ' ';
   }
}

/* Appends seq, wrapped for tmux when asked. */
static void put_seq(char** out, size_t* len, const char* seq, bool tmux) {
   size_t n = strlen(seq);
   *out = xrealloc(*out, *len + 2 * n + 16);
   char* o = *out + *len;
   if (tmux) o += sprintf(o, "\033Ptmux;");
   for (size_t i = 0; i < n; i++) {
      if (tmux && seq[i] == '\033') *o++ = '\033';
      *o++ = seq[i];
   }
   if (tmux) o += sprintf(o, "\033\\");
   *o = '\0';
   *len = (size_t)(o - *out);
}

char* notify_sequences(NotifyMode mode, bool tmux, const char* title, const char* body) {
   char* t = xstrdup(title);
   char* b = xstrdup(body);
   clean(t, true);
   clean(b, false);
   char* out = xstrdup("");
   size_t len = 0;
   if (mode == NOTIFY_ON || mode == NOTIFY_BELL) {
      out = xrealloc(out, 2);
      out[len++] = '\a'; /* tmux handles a bell itself (bell-action): never wrapped */
      out[len] = '\0';
   }
   if (mode == NOTIFY_ON || mode == NOTIFY_DESKTOP) {
      char* osc9 = xasprintf("\033]9;%s: %s\a", t, b);
      char* osc777 = xasprintf("\033]777;notify;%s;%s\a", t, b);
      put_seq(&out, &len, osc9, tmux);
      put_seq(&out, &len, osc777, tmux);
      free(osc9);
      free(osc777);
   }
   free(t);
   free(b);
   return out;
}

/* The rate limit: true (and remembered) when process id may be notified now. */
static bool may_notify(Notifier* n, uint64_t id, uint64_t now) {
   size_t oldest = 0;
   for (size_t i = 0; i < n->nrecent; i++) {
      if (n->recent[i].id == id) {
         if (now - n->recent[i].ms < NOTIFY_EVERY_MS) return false;
         n->recent[i].ms = now;
         return true;
      }
      if (n->recent[i].ms < n->recent[oldest].ms) oldest = i;
   }
   size_t slot = n->nrecent < ARRAY_LEN(n->recent) ? n->nrecent++ : oldest;
   n->recent[slot].id = id;
   n->recent[slot].ms = now;
   return true;
}

static bool pane_shown(const View* v, uint64_t id) {
   return v->tab == TAB_PROCS && v->sel == id;
}

bool notify_poll(Notifier* n, const View* v) {
   const SupAlerts* al = sup_alerts_read(v->sup);
   if (!al || al->seq == n->seq) return n->len > 0;
   uint64_t from = n->seq + 1;
   if (al->seq - n->seq > SUP_ALERTS) from = al->seq - SUP_ALERTS + 1; /* older ones are gone */
   n->seq = al->seq;
   if (n->mode == NOTIFY_OFF) return false;
   uint64_t now = util_now_ms();
   for (uint64_t k = from; k <= al->seq; k++) {
      const SupAlert* a = &al->ring[k % SUP_ALERTS];
      if (a->seq != k || pane_shown(v, a->id) || !may_notify(n, a->id, now)) continue;
      char* seq = notify_sequences(n->mode, n->tmux, n->title, a->text);
      size_t sl = strlen(seq);
      n->out = xrealloc(n->out, n->len + sl + 1);
      memcpy(n->out + n->len, seq, sl + 1);
      n->len += sl;
      free(seq);
      util_log("notified: %s", a->text);
   }
   return n->len > 0;
}
