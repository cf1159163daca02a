/* Private to core/detect*.c: the state of a Detector, the constants and enums the files share,
 * and the functions one file offers the others. The public API is core/detect.h. */
#ifndef BRUM_CORE_DETECT_IMPL_H
#define BRUM_CORE_DETECT_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DETECT_TEDDY 1 /* the SSSE3 trigger scan is built (it runs if the CPU has SSSE3) */
#endif

#include "core/detect.h"

enum { TITLE_MAX = 200, LOC_MAX = 200, URL_MAX = 1024, PREFIX_MAX = 15 };

/* Trigger word families: a rule runs only if one of its families occurs in the line. */
enum {
   TW_ERR = 1u << 0,      /* rror err! err_ err] err: err  */
   TW_WARN = 1u << 1,     /* warn */
   TW_FAIL = 1u << 2,     /* fail */
   TW_FATAL = 1u << 3,    /* fata */
   TW_CRIT = 1u << 4,     /* crit */
   TW_PANIC = 1u << 5,    /* pani */
   TW_TRACE = 1u << 6,    /* trac */
   TW_EXC = 1u << 7,      /* xcep caus */
   TW_UNC = 1u << 8,      /* ncau nhan */
   TW_URL = 1u << 9,      /* p:// s:// */
   TW_TEST = 1u << 10,    /* test */
   TW_PASS = 1u << 11,    /* pass */
   TW_PEND = 1u << 12,    /* pend skip todo */
   TW_OK = 1u << 13,      /* "ok  " "t ok" */
   TW_BUILD = 1u << 14,   /* buil */
   TW_GO = 1u << 15,      /* goro .go: */
   TW_MISC = 1u << 16,    /* dule plug */
   TW_LEVEL = 1u << 17,   /* evel */
   TW_SYM = 1u << 18,     /* status symbols and a blank: "✘ " "● " "✓ " " × " ... */
   TW_COMPILE = 1u << 19, /* mpil */
   TW_FINISH = 1u << 20,  /* inis */
   TW_INUSE = 1u << 21,   /* "n us": no rule's; the port check's (detect_last_in_use) */
};

/* What follows the head line of an entry (see detect_group_continues). */
typedef enum Group {
   G_NONE,   /* a single line */
   G_INDENT, /* deeper-indented lines, code frames (`4 | x`, `  | ^`), up to 2 blank lines */
   G_STACK,  /* G_INDENT, and when the head is itself indented (Mocha) lines at its indent too */
   G_LOG,    /* G_INDENT, or a Python/Java traceback right under the log line (then that mode) */
   G_PANIC,  /* Rust panic: the message line, `note:`, an indented backtrace */
   G_PYTHON, /* indented traceback body, then the exception line (becomes the title) */
   G_GO,     /* goroutine traces: `goroutine N [..]:`, `pkg.f(...)`, tab-indented file lines */
   G_JAVA,   /* indented `at` frames, `Caused by:`, `... N more` */
   G_PREFIX, /* following lines that start with the same prefix (`npm ERR!`) */
   G_BLOCK,  /* every non-blank line up to a blank one (webpack, Next.js) */
   G_VITEST, /* up to vitest's `⎯⎯⎯` separator, blank lines included */
} Group;

enum {
   R_NOT = 1,           /* the line is explicitly no entry (ends the search for an entry rule) */
   R_ESLINT = 2,        /* location = the file line above + line:col */
   R_TITLE_NEXT = 4,    /* the first following non-path line is the better title */
   R_PATHHEAD = 8,      /* if the title is a bare path, it is the location and the title follows */
   R_TITLE_APPEND = 16, /* the first following line completes the title (Rust's panic message) */
};

typedef enum TestsParse {
   TP_NONE,
   TP_JEST,
   TP_VITEST,
   TP_MOCHA,
   TP_NODE,
   TP_GO_PASS,
   TP_GO_FAIL,
   TP_GO_SKIP,
   TP_GO_PKG_OK,
   TP_GO_PKG_FAIL,
   TP_PYTEST,
   TP_CARGO,
} TestsParse;

/* An entry keeps its title and location in one exactly-sized heap block (`title\0loc\0`) that
 * its ring slot reuses: a flooding process holds up to DETECT_MAX_ENTRIES of them, and fixed
 * TITLE_MAX + LOC_MAX buffers would keep ~440 B each resident whatever the titles' length. Read
 * them with entry_title/entry_loc; change them with detect_entry_set_title/_loc, which keep
 * them within TITLE_MAX/LOC_MAX bytes. */
typedef struct Entry {
   DetectKind kind;
   uint16_t cap; /* bytes allocated at text */
   uint8_t tlen; /* strlen(title): the location starts at text + tlen + 1 */
   uint8_t llen; /* strlen(location) */
   uint64_t first, last, time_ms;
   const char* rule; /* borrowed: a string literal of the rule table */
   char* text;       /* owned: title and location, both NUL-terminated; NULL: both empty */
} Entry;
_Static_assert(TITLE_MAX <= UINT8_MAX && LOC_MAX <= UINT8_MAX, "Entry.tlen, .llen hold lengths");
_Static_assert(TITLE_MAX + LOC_MAX + 2 <= UINT16_MAX, "Entry.cap holds both strings");

typedef struct Url {
   char* url;         /* owned */
   const char* label; /* borrowed: a string literal */
   uint64_t lineno, time_ms;
} Url;

struct Detector {
   pcre2_match_data* md; /* owned */
   Entry* ent;           /* owned; a ring of ent_cap slots once full */
   uint32_t ent_cap, ent_n, ent_head;
   uint64_t errors, warnings;

   /* the open group: the newest entry, while lines may still belong to it */
   bool open;
   uint8_t mode;     /* Group */
   uint8_t rflags;   /* R_* of the rule that opened it */
   bool loc_foreign; /* the entry's location is in node_modules etc.: a better one may replace it */
   bool title_pending;   /* R_TITLE_NEXT: the next non-path line becomes the title */
   uint32_t head_indent; /* continuation lines are indented deeper than this */
   uint32_t blanks;      /* blank lines seen since the last grouped line */
   uint32_t ngrouped;
   bool deep;       /* G_BLOCK: an indented or code-frame line was grouped */
   uint32_t nflush; /* G_BLOCK: flush-left lines grouped */
   bool brace;      /* the last line of the entry ended with `{` (Node prints error props) */
   char prefix[PREFIX_MAX + 1];
   uint8_t prefix_len;

   char eslint_file[LOC_MAX + 1]; /* the last bare source-file line (ESLint's stylish format) */

   Url urls[DETECT_MAX_URLS];
   uint32_t nurls;

   DetectTests tests;
   uint32_t go_pass, go_fail, go_skip, go_pkg_ok, go_pkg_fail; /* go test tallies of this run */
   bool tests_fresh; /* a new run or build started: the next accumulating summary starts over */
   BuildResult build;

   int last_rule; /* for tests: the first rule the last line matched, or -1 */
   bool in_use;   /* the last line has the trigger word "n us" */
   bool changed;
};

/* ---- small helpers ---- */

static inline bool is_space(char c) {
   return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static inline bool is_digit(char c) {
   return c >= '0' && c <= '9';
}

static inline bool is_alnum(char c) {
   return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline bool starts_with(const char* s, uint32_t n, const char* lit) {
   size_t k = strlen(lit);
   return n >= k && memcmp(s, lit, k) == 0;
}

/* Copies at most cap bytes without cutting a UTF-8 sequence, trimmed of surrounding blanks. */
static inline void copy_trimmed(char* dst, size_t cap, const char* s, size_t n) {
   while (n && is_space(*s)) s++, n--;
   while (n && is_space(s[n - 1])) n--;
   if (n > cap) {
      n = cap;
      while (n && ((uint8_t)s[n] & 0xC0) == 0x80) n--; /* s[n] continues a sequence: back off */
   }
   memcpy(dst, s, n);
   dst[n] = '\0';
}

static inline uint32_t indent_of(const char* s, uint32_t n, uint32_t* bytes) {
   uint32_t w = 0, i = 0;
   for (; i < n; i++) {
      if (s[i] == ' ')
         w++;
      else if (s[i] == '\t')
         w += 4;
      else
         break;
   }
   *bytes = i;
   return w;
}

static inline Entry* newest(Detector* d) {
   return &d->ent[(d->ent_head + d->ent_n - 1) % d->ent_cap];
}

static inline const char* entry_title(const Entry* e) {
   return e->text ? e->text : "";
}

static inline const char* entry_loc(const Entry* e) {
   return e->text ? e->text + e->tlen + 1 : "";
}

static inline bool ends_with_brace(const char* s, uint32_t n) {
   while (n && is_space(s[n - 1])) n--;
   return n && s[n - 1] == '{';
}

/* ---- detect.c ---- */
void detect_init_once(void); /* compiles the rules and builds the scan tables, once per process */

/* ---- detect_scan.c: the trigger word scan ---- */
void detect_scan_init(void);
/* The families (TW_*) of the trigger words in s[0..n), with the scan detect_set_scan chose. */
uint32_t detect_trigger_mask(const char* s, uint32_t n);
/* The two implementations, callable directly so that tests/fuzz/fuzz_detect.c can compare them
 * on the same line (they must return the same mask). Call detect_init_once() first; the SSSE3
 * one only if detect_set_scan(-1) returns DETECT_SCAN_SSSE3 (the CPU has it). */
uint32_t detect_trigger_mask_portable(const char* s, uint32_t n);
#ifdef DETECT_TEDDY
uint32_t detect_trigger_mask_ssse3(const char* s, uint32_t n);
#endif

/* ---- detect_rules.c: the rule table, and what a matching rule does ---- */
void detect_rules_init(void);
pcre2_match_data* detect_match_data_new(void); /* big enough for every rule's groups */
bool detect_json_level_value(const char* s, uint32_t n);
uint16_t detect_run_rules(Detector* d, uint32_t mask, const char* s, uint32_t n, uint32_t ind,
                          uint8_t lead, bool entries, uint64_t lineno, uint64_t time_ms);

/* ---- detect_loc.c: source locations ---- */
bool detect_path_is_foreign(const char* p, size_t n);
void detect_set_loc_parts(char* out, const char* path, size_t plen, const char* line, size_t llen,
                          const char* col, size_t clen);
bool detect_find_loc(const char* s, uint32_t n, char* out);
bool detect_is_bare_path(const char* s, uint32_t n);
void detect_note_file_line(Detector* d, const char* s, uint32_t n);
void detect_entry_offer_loc(Detector* d, Entry* e, const char* loc, bool foreign);
void detect_line_offer_loc(Detector* d, Entry* e, const char* s, uint32_t n);

/* ---- detect_group.c: entries and the lines that belong to them ---- */
enum { C_CLOSE, C_GROUP, C_GROUP_LAST, C_BLANK }; /* what detect_group_continues says */
Entry* detect_entry_push(Detector* d);
/* Replace the title (at most TITLE_MAX bytes of it, not cutting a UTF-8 sequence) or the location
 * (LOC_MAX). The argument must not point into the entry's own text (callers build it in a
 * buffer of their own). */
void detect_entry_set_title(Entry* e, const char* title);
void detect_entry_set_loc(Entry* e, const char* loc);
void detect_entries_free(Detector* d);
int detect_group_continues(Detector* d, const char* s, uint32_t n);
void detect_group_add(Detector* d, const char* s, uint32_t n, uint64_t lineno, bool last);

/* ---- detect_summary.c: test and build results ---- */
void detect_tests_apply(Detector* d, TestsParse tp, const char* s, uint32_t n);
void detect_build_apply(Detector* d, BuildResult r);

/* ---- detect_url.c ---- */
bool detect_scan_urls(Detector* d, const char* s, uint32_t n, uint64_t lineno, uint64_t time_ms);

#endif
