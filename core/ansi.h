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
    * application cursor keys, bracketed paste, mouse reporting), from CSI ? Pn h / l (several
    * Pn in one sequence give one call) or ESC c (all off). Called after the line callback for
    * what came before (on entering the alternate screen, held blank lines included). While
    * TERM_MODE_ALTSCREEN is on the parser emits no lines and keeps no text (text drawn on the
    * alternate screen is not stored); the unfinished line of the primary screen waits, and
    * continues after leaving, as a terminal restores its primary screen. The sink writes a
    * marker line on enter and leave (without ansi_flush: that would end the waiting line).
    * May be NULL. */
   void (*modes)(void* ud, unsigned modes);
   /* The child cleared its screen (ESC[2J, ESC c, ESC[H ESC[J ...: what watch-mode tools send on
    * every rerun): the sink writes a separator marker. Blank lines just before a clear never
    * become lines (the parser holds trailing blank lines back until it knows what follows; a line
    * once emitted is never taken back; at most 1000 are held, beyond that the oldest are
    * emitted). The unfinished line, if it has text, is emitted before the call (it was on the
    * screen). A burst of clears with no text between them (Jest's ESC[2J ESC[3J ESC[H) is one
    * call. Recognised: ESC[2J, ESC[3J, ESC c, and a cursor-home (ESC[H, ESC[1;1H, ESC[f...)
    * directly followed by an erase-down (ESC[J, ESC[0J: Vite, readline's clearScreenDown).
    * Not called on the alternate screen. May be NULL. */
   void (*clear)(void* ud);
} AnsiSink;

typedef struct AnsiParser AnsiParser;

AnsiParser* ansi_new(const AnsiSink* sink, void* ud);
void ansi_free(AnsiParser* p);
void ansi_feed(AnsiParser* p, const char* buf, size_t n);
/* End of output (or brum writes a marker line): emits the held blank lines and the unfinished
 * line, if it has any text. The modes stay (a marker may come while a full-screen child runs). */
void ansi_flush(AnsiParser* p);
/* The child's terminal is gone (its output closed): ansi_flush, then every mode off, with a
 * sink.modes call if any was on (a child that died on the alternate screen must not hide the
 * next run's output). */
void ansi_reset(AnsiParser* p);
/* The unfinished line so far (for logstore_set_partial); len 0 when there is none. On the
 * alternate screen: the primary screen's line that waits there. */
void ansi_partial(const AnsiParser* p, const char** text, uint32_t* len, const StyleRun** runs,
                  uint16_t* nruns);
/* Style in force at the end of the input so far (kept across lines, as a terminal does). */
Style ansi_style(const AnsiParser* p);
/* Inside the line callback: true when this line continues the previous one (the parser cut a
 * line at LOGSTORE_MAX_LINE bytes or LOGSTORE_MAX_RUNS runs to stay bounded); the sink should
 * store it with LINE_CONTINUED. */
bool ansi_line_continued(const AnsiParser* p);
/* false: queries are not answered (an emulator that exists answers them instead, exactly once);
 * the colour queries OSC 10/11, which libvterm does not answer, still are.
 * Default true. With true they are answered on the alternate screen too (ESC[6n there reports
 * column 1: the parser does not know the cursor of a full-screen program). */
void ansi_set_answer(AnsiParser* p, bool on);
unsigned ansi_modes(const AnsiParser* p); /* TERM_MODE_* in force */
/* The terminal width the child sees (clamps the column answered to ESC[6n); default 80. */
void ansi_set_width(AnsiParser* p, uint16_t cols);

#endif
