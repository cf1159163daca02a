/* Placeholders for the terminal-mode contract (core/term.h, core/sup.h, core/ansi.h) until its
 * implementation lands; this file is deleted by it. */
#include "core/sup.h"

void sup_sample(Sup* s, bool on) {
   (void)s, (void)on;
} /* core/sample.c replaces this */
