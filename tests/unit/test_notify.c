/* The bytes of a notification: bell, OSC 9, OSC 777, tmux's passthrough, text made safe. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tui/notify.h"

Test(notify, bell_osc9_osc777) {
   char* s = notify_sequences(NOTIFY_ON, false, "brum: web", "api failed (exit code 1)");
   cr_assert_str_eq(s, "\a\033]9;brum: web: api failed (exit code 1)\a"
                       "\033]777;notify;brum: web;api failed (exit code 1)\a");
   free(s);
}

Test(notify, modes) {
   char* s = notify_sequences(NOTIFY_BELL, false, "t", "b");
   cr_assert_str_eq(s, "\a");
   free(s);
   s = notify_sequences(NOTIFY_DESKTOP, false, "t", "b");
   cr_assert_str_eq(s, "\033]9;t: b\a\033]777;notify;t;b\a");
   free(s);
   s = notify_sequences(NOTIFY_OFF, false, "t", "b");
   cr_assert_str_eq(s, "");
   free(s);
}

Test(notify, tmux_passthrough_doubles_every_esc) {
   char* s = notify_sequences(NOTIFY_ON, true, "t", "b");
   cr_assert_str_eq(s, "\a"
                       "\033Ptmux;\033\033]9;t: b\a\033\\"
                       "\033Ptmux;\033\033]777;notify;t;b\a\033\\");
   free(s);
}

Test(notify, texts_cannot_end_the_sequence) {
   /* ESC, BEL, a C1 ST (U+009C in UTF-8) and a ';' in the title would cut it short */
   char* s = notify_sequences(NOTIFY_DESKTOP, false, "a;b", "x\033\\y\az\xc2\x9cw é");
   cr_assert_str_eq(s, "\033]9;a,b: x \\y z  w é\a\033]777;notify;a,b;x \\y z  w é\a");
   free(s);
}
