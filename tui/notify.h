/* Notifications: a process failed or its tests turned red while its pane is not shown, so the
 * terminal rings its bell and shows a desktop notification (OSC 9 and OSC 777, wrapped for tmux's
 * passthrough inside tmux). The UI thread writes them between frames. */
#ifndef BRUM_TUI_NOTIFY_H
#define BRUM_TUI_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scripts/pkg.h"
#include "tui/view.h"

#define NOTIFY_EVERY_MS 5000 /* at most one notification per process this often */

typedef struct Notifier {
   NotifyMode mode; /* NOTIFY_OFF, NOTIFY_ON, NOTIFY_BELL or NOTIFY_DESKTOP */
   bool tmux;       /* inside tmux ($TMUX): wrapped in its passthrough */
   uint64_t seq;    /* the newest alert taken */
   struct {
      uint64_t id, ms;
   } recent[32]; /* the last notification per process, for the rate limit */
   size_t nrecent;
   char title[64]; /* "brum: PROJECT" */
   char* out;      /* owned: bytes for the terminal, written between frames (NULL: none) */
   size_t len;
} Notifier;

void notify_init(Notifier* n, NotifyMode mode, const char* project);
void notify_done(Notifier* n);
/* Takes the supervisor's new alerts (inside rcu_read_lock): those of a process whose pane is not
 * shown become terminal output in n->out. Returns true when there is some. */
bool notify_poll(Notifier* n, const View* v);
/* The bytes for one notification: BEL, OSC 9, OSC 777 (as the mode says), each wrapped in tmux's
 * passthrough (ESC P tmux; ... ESC \, every ESC doubled) when `tmux`. Control characters in the
 * texts become spaces, ';' in the title ','. Heap string. */
char* notify_sequences(NotifyMode mode, bool tmux, const char* title, const char* body);

#endif
