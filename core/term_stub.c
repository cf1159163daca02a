/* Placeholders for the terminal-mode contract (core/term.h, core/sup.h, core/ansi.h) until its
 * implementation lands; this file is deleted by it. */
#include "core/ansi.h"
#include "core/sup.h"

size_t term_encode_key(const TermKey* k, unsigned modes, char* out, size_t size) {
   (void)k, (void)modes, (void)out, (void)size;
   return 0;
}
void sup_key(Sup* s, uint64_t id, const TermKey* k) {
   (void)s, (void)id, (void)k;
}
void sup_input(Sup* s, uint64_t id, const char* bytes, size_t n, bool paste) {
   (void)s, (void)id, (void)bytes, (void)n, (void)paste;
}
void sup_input_line(Sup* s, uint64_t id, const char* text, size_t n) {
   (void)s, (void)id, (void)text, (void)n;
}
void sup_input_eof(Sup* s, uint64_t id) {
   (void)s, (void)id;
}
void sup_term_want(Sup* s, uint64_t id, bool want) {
   (void)s, (void)id, (void)want;
}
void sup_resize_proc(Sup* s, uint64_t id, unsigned short cols, unsigned short rows) {
   (void)s, (void)id, (void)cols, (void)rows;
}
const TermScreen* sup_screen(const ProcSlot* slot) {
   return rcu_dereference(slot->screen);
}
void ansi_set_answer(AnsiParser* p, bool on) {
   (void)p, (void)on;
}
unsigned ansi_modes(const AnsiParser* p) {
   (void)p;
   return 0;
}
