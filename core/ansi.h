/* The output parser: turns what a child writes to its terminal into lines of plain text with
 * style runs. Handles SGR (16/256/truecolor, attributes), `\r` rewrites and erase-line so only the
 * last state of a progress line is kept, backspace, OSC (dropped; OSC 8 link text kept), other
 * CSI/ESC sequences (dropped), unterminated sequences (dropped after a small cap), NUL (ignored,
 * as a terminal does), tabs (kept). Invalid UTF-8 is passed through unchanged.
 * Terminal queries (cursor position ESC[6n, device attributes ESC[c / ESC[>c) are answered through
 * the reply callback so programs that ask do not stall. The parser is not thread-safe: one per
 * process, used by the supervisor thread. */
#ifndef BRUM_CORE_ANSI_H
#define BRUM_CORE_ANSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/style.h"

typedef struct AnsiSink {
   /* A complete line (text without the newline). text/runs are valid during the call only. */
   void (*line)(void* ud, const char* text, uint32_t len, const StyleRun* runs, uint16_t nruns);
   /* Bytes to write back to the child's terminal (answers to queries). May be NULL. */
   void (*reply)(void* ud, const char* bytes, size_t n);
   /* The child's terminal modes changed (TERM_MODE_* of core/term.h: alternate screen,
    * application cursor keys, bracketed paste, mouse reporting). Called after the line callback
    * for what came before. While TERM_MODE_ALTSCREEN is on the parser emits no lines (text drawn
    * on the alternate screen is not stored); the sink writes a marker line on enter and leave.
    * May be NULL. */
   void (*modes)(void* ud, unsigned modes);
   /* The child cleared its screen (ESC[2J, ESC c, ESC[H ESC[J ...: what watch-mode tools send on
    * every rerun): the sink writes a separator marker. Blank lines just before a clear never
    * become lines (the parser holds trailing blank lines back until it knows what follows; a line
    * once emitted is never taken back). Not called on the alternate screen. May be NULL. */
   void (*clear)(void* ud);
} AnsiSink;

typedef struct AnsiParser AnsiParser;

AnsiParser* ansi_new(const AnsiSink* sink, void* ud);
void ansi_free(AnsiParser* p);
void ansi_feed(AnsiParser* p, const char* buf, size_t n);
/* End of output: emits the unfinished line, if it has any text. */
void ansi_flush(AnsiParser* p);
/* The unfinished line so far (for logstore_set_partial); len 0 when there is none. */
void ansi_partial(const AnsiParser* p, const char** text, uint32_t* len, const StyleRun** runs,
                  uint16_t* nruns);
/* Style in force at the end of the input so far (kept across lines, as a terminal does). */
Style ansi_style(const AnsiParser* p);
/* Inside the line callback: true when this line continues the previous one (the parser cut a
 * line at LOGSTORE_MAX_LINE bytes or LOGSTORE_MAX_RUNS runs to stay bounded); the sink should
 * store it with LINE_CONTINUED. */
bool ansi_line_continued(const AnsiParser* p);
/* false: queries are not answered (an emulator that exists answers them instead, exactly once).
 * Default true. */
void ansi_set_answer(AnsiParser* p, bool on);
unsigned ansi_modes(const AnsiParser* p); /* TERM_MODE_* in force */
/* The terminal width the child sees (clamps the column answered to ESC[6n); default 80. */
void ansi_set_width(AnsiParser* p, uint16_t cols);

#endif
