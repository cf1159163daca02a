/* Placeholders for the terminal-mode contract (core/term.h, core/sup.h, core/ansi.h) until its
 * implementation lands; this file is deleted by it. */
#include "core/ansi.h"
#include "core/sup.h"

void ansi_set_answer(AnsiParser* p, bool on) {
   (void)p, (void)on;
}
unsigned ansi_modes(const AnsiParser* p) {
   (void)p;
   return 0;
}
void sup_sample(Sup* s, bool on) {
   (void)s, (void)on;
} /* core/sample.c replaces this */
