/* brum_lines: a deterministic line generator and a slow reader that checks what headless brum
 * printed, for the end-to-end tests of headless output (no line lost, none twice, in order).
 *
 *   brum_lines gen SPEC                prints the lines of SPEC (the script brum runs)
 *   brum_lines check SPEC NAME [SPEC NAME]... RATE
 *                                      reads brum's output at RATE and checks that every line of
 *                                      each SPEC arrived as "[NAME] text", once, in order
 *   brum_lines slow RATE               copies stdin to stdout at RATE
 *
 * SPEC: seq:N (what `seq 1 N` prints), or lines:SEED:COUNT:MIN:MAX:CR: COUNT lines whose lengths
 * are mostly MIN..MIN+200 and one in eight MIN..MAX, CR percent of them written after a `\r`
 * rewrite of junk. A line as brum stores it is checked: the junk before `\r` is gone, a line over
 * 64 KiB arrives as 64 KiB pieces. Lines brum writes itself ("[NAME] ── ...", and the banner
 * "[NAME] > ..." before the first line) are skipped, and everything from "── summary ──" on.
 * RATE: bytes per second, 0 for as fast as possible, or var:SEED:N for speeds that change every
 * 256 KiB between N/4, N, 4N, unlimited and short stalls; stall:MS:RATE first reads nothing for
 * MS milliseconds. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PIECE (64u * 1024u) /* LOGSTORE_MAX_LINE */
#define JUNK_MAX 100u

typedef struct Spec {
   bool seq;
   uint64_t seed, count, min, max, cr;
   uint64_t rng;
   uint64_t i;    /* the current line */
   char head[24]; /* its first bytes: "i:" (seq: the number) */
   size_t headlen;
} Spec;

static uint64_t splitmix(uint64_t* s) {
   uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
   z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
   z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
   return z ^ (z >> 31);
}

static uint64_t uniform(uint64_t* s, uint64_t lo, uint64_t hi) {
   return lo + splitmix(s) % (hi - lo + 1);
}

static void die(const char* msg) {
   fprintf(stderr, "brum_lines: %s\n", msg);
   exit(2);
}

static void spec_parse(Spec* sp, const char* s) {
   memset(sp, 0, sizeof *sp);
   if (sscanf(s, "seq:%" SCNu64, &sp->count) == 1) {
      sp->seq = true;
   } else if (sscanf(s, "lines:%" SCNu64 ":%" SCNu64 ":%" SCNu64 ":%" SCNu64 ":%" SCNu64, &sp->seed,
                     &sp->count, &sp->min, &sp->max, &sp->cr) != 5 ||
              sp->min > sp->max) {
      die("bad SPEC (seq:N or lines:SEED:COUNT:MIN:MAX:CR)");
   }
   sp->rng = sp->seed;
}

static void reserve(char** buf, size_t* cap, size_t n) {
   if (n <= *cap) return;
   while (*cap < n) *cap = *cap ? *cap * 2 : 4096;
   *buf = realloc(*buf, *cap);
   if (!*buf) die("out of memory");
}

/* Starts line i of the spec (lines come in order): returns its length; *junk: bytes written
 * before it and a `\r` (0: none). */
static uint64_t spec_line(Spec* sp, uint64_t i, size_t* junk) {
   *junk = 0;
   sp->i = i;
   if (sp->seq) {
      sp->headlen = (size_t)sprintf(sp->head, "%" PRIu64, i + 1);
      return sp->headlen;
   }
   uint64_t hi = splitmix(&sp->rng) % 8 == 0 ? sp->max : sp->min + 200;
   if (hi > sp->max) hi = sp->max;
   uint64_t len = uniform(&sp->rng, sp->min, hi);
   size_t j = (size_t)uniform(&sp->rng, 1, JUNK_MAX);
   if (len && splitmix(&sp->rng) % 100 < sp->cr) *junk = j;
   sp->headlen = (size_t)sprintf(sp->head, "%" PRIu64 ":", i);
   return len;
}

/* Bytes off..off+n of the current line: "i:", then letters that depend on i and the position,
 * so a piece out of place shows. */
static void spec_fill(const Spec* sp, uint64_t off, size_t n, char* dst) {
   static char abc[26 + (1 << 16)]; /* the alphabet over and over: a copy per block */
   if (!abc[0])
      for (size_t k = 0; k < sizeof abc; k++) abc[k] = (char)('a' + k % 26);
   for (; n && off < sp->headlen; n--, off++) *dst++ = sp->head[off];
   while (n) {
      size_t k = n < (1u << 16) ? n : (1u << 16);
      memcpy(dst, abc + (sp->i + off) % 26, k);
      dst += k;
      off += k;
      n -= k;
   }
}

/* ---------------------------------------------------------------- gen */

static char out[1 << 16];
static size_t outlen;

static void out_flush(void) {
   size_t off = 0;
   while (off < outlen) {
      ssize_t w = write(STDOUT_FILENO, out + off, outlen - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) exit(1);
      off += (size_t)w;
   }
   outlen = 0;
}

static char* out_room(size_t* n) {
   if (outlen == sizeof out) out_flush();
   *n = sizeof out - outlen;
   return out + outlen;
}

static int gen(const char* spec) {
   Spec sp;
   spec_parse(&sp, spec);
   for (uint64_t i = 0; i < sp.count; i++) {
      size_t junk, room;
      uint64_t len = spec_line(&sp, i, &junk);
      if (junk) {
         char* at = out_room(&room);
         if (room < junk + 1) {
            out_flush();
            at = out_room(&room);
         }
         memset(at, 'z', junk);
         at[junk] = '\r';
         outlen += junk + 1;
      }
      for (uint64_t off = 0; off < len;) {
         char* at = out_room(&room);
         size_t n = len - off < room ? (size_t)(len - off) : room;
         spec_fill(&sp, off, n, at);
         outlen += n;
         off += n;
      }
      out_room(&room)[0] = '\n';
      outlen++;
   }
   out_flush();
   return 0;
}

/* ---------------------------------------------------------------- rate */

typedef struct Rate {
   uint64_t base, cur; /* bytes per second, 0: unlimited */
   bool var;
   uint64_t rng;
   uint64_t phase_left; /* bytes until the next speed change */
   uint64_t due_ns;     /* when the bytes read so far are due at the current speed */
} Rate;

static uint64_t now_ns(void) {
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns) {
   struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
   while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
   }
}

static void rate_parse(Rate* r, const char* s) {
   memset(r, 0, sizeof *r);
   uint64_t seed, ms;
   int skip = 0;
   if (sscanf(s, "stall:%" SCNu64 ":%n", &ms, &skip) == 1 && skip) {
      sleep_ns(ms * 1000000u); /* a reader that does not read at first */
      s += skip;
   }
   if (sscanf(s, "var:%" SCNu64 ":%" SCNu64, &seed, &r->base) == 2) {
      r->var = true;
      r->rng = seed;
   } else if (sscanf(s, "%" SCNu64, &r->base) != 1) {
      die("bad RATE (N or var:SEED:N)");
   }
   r->cur = r->base;
   r->due_ns = now_ns();
}

/* How many bytes to read next. */
static size_t rate_chunk(Rate* r, size_t max) {
   if (r->var && r->phase_left == 0) {
      r->phase_left = 256u * 1024u;
      switch (splitmix(&r->rng) % 6) {
      case 0:
         r->cur = r->base / 4 ? r->base / 4 : r->base;
         break;
      case 1:
      case 2:
         r->cur = r->base;
         break;
      case 3:
         r->cur = r->base * 4;
         break;
      case 4:
         r->cur = 0;
         break;
      default:
         sleep_ns(uniform(&r->rng, 1, 30) * 1000000u); /* a stalled reader */
         r->cur = r->base;
         break;
      }
      uint64_t now = now_ns();
      if (r->due_ns < now) r->due_ns = now;
   }
   size_t n = max;
   if (r->cur && r->cur / 20 < n) n = r->cur / 20 ? (size_t)(r->cur / 20) : 1; /* ~50 ms */
   if (r->var && r->phase_left < n) n = (size_t)r->phase_left;
   return n;
}

/* After reading n bytes: sleep until they are due at the current speed. */
static void rate_took(Rate* r, size_t n) {
   if (r->var) r->phase_left -= n < r->phase_left ? n : r->phase_left;
   uint64_t now = now_ns();
   if (!r->cur) {
      r->due_ns = now;
      return;
   }
   if (r->due_ns + 100000000u < now) r->due_ns = now - 100000000u; /* at most 100 ms of credit */
   r->due_ns += n * 1000000000u / r->cur;
   if (r->due_ns > now) sleep_ns(r->due_ns - now);
}

static int slow(const char* rate) {
   Rate r;
   rate_parse(&r, rate);
   static char buf[1 << 16];
   for (;;) {
      ssize_t n = read(STDIN_FILENO, buf, rate_chunk(&r, sizeof buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
         ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
         if (w < 0 && errno == EINTR) continue;
         if (w <= 0) return 1;
         off += w;
      }
      rate_took(&r, (size_t)n);
   }
   return 0;
}

/* ---------------------------------------------------------------- check */

typedef struct Check {
   Spec sp;
   char prefix[256];
   size_t plen;
   uint64_t line;    /* the spec line expected next */
   uint64_t off;     /* where its next piece starts */
   uint64_t len;     /* its length */
   uint64_t pieces;  /* pieces checked */
   uint64_t markers; /* brum's own lines */
   char* want;       /* owned: the expected piece */
   bool failed;
} Check;

static void head(char* dst, const char* s, size_t n) {
   size_t k = n < 60 ? n : 60;
   for (size_t i = 0; i < k; i++) dst[i] = (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
   dst[k] = 0;
   if (n > k) strcat(dst, "...");
}

static size_t piece_len(const Check* c) {
   if (c->line >= c->sp.count) return 0;
   return c->len - c->off < PIECE ? (size_t)(c->len - c->off) : PIECE;
}

static void check_fail(Check* c, const char* what, const char* got, size_t n) {
   char g[80], e[80];
   head(g, got, n);
   size_t elen = piece_len(c);
   head(e, c->want, elen);
   fprintf(stderr,
           "brum_lines: %s at line %" PRIu64 " byte %" PRIu64 " of %" PRIu64
           " lines:\n  got      '%s' (%zu bytes)\n  expected '%s%s' (%zu bytes)\n",
           what, c->line, c->off, c->sp.count, g, n, c->prefix, e, c->plen + elen);
   c->failed = true;
}

static void check_load(Check* c) {
   size_t junk;
   if (c->off == 0 && c->line < c->sp.count) c->len = spec_line(&c->sp, c->line, &junk);
   spec_fill(&c->sp, c->off, piece_len(c), c->want);
}

/* A line of this process's stream (it starts with its prefix). */
static void check_line(Check* c, const char* s, size_t n) {
   if (c->failed) return;
   if (n >= c->plen + 4 && memcmp(s + c->plen, "── ", 4) == 0) {
      c->markers++;
      return;
   }
   /* npm's banner ("> pkg@1.2.3 seq", "> seq 1 1000"), which brum shows before the first line */
   if (c->line == 0 && c->off == 0 && n >= c->plen + 2 && memcmp(s + c->plen, "> ", 2) == 0) {
      c->markers++;
      return;
   }
   if (c->line >= c->sp.count) {
      check_fail(c, "extra line", s, n);
      return;
   }
   size_t elen = piece_len(c);
   if (n != c->plen + elen || memcmp(s, c->prefix, c->plen) != 0 ||
       memcmp(s + c->plen, c->want, elen) != 0) {
      check_fail(c, "wrong line", s, n);
      return;
   }
   c->pieces++;
   c->off += elen;
   if (c->off >= c->len) {
      c->line++;
      c->off = 0;
   }
   check_load(c);
}

#define MAX_PROCS 8

static int check(int n, char** args, const char* rate) {
   Check cs[MAX_PROCS];
   size_t nc = (size_t)n / 2, width = 0;
   if (n % 2 || nc == 0 || nc > MAX_PROCS) die("check needs SPEC NAME pairs");
   for (size_t i = 0; i < nc; i++)
      if (strlen(args[2 * i + 1]) > width) width = strlen(args[2 * i + 1]);
   for (size_t i = 0; i < nc; i++) {
      Check* c = &cs[i];
      memset(c, 0, sizeof *c);
      c->want = malloc(PIECE);
      if (!c->want) die("out of memory");
      spec_parse(&c->sp, args[2 * i]);
      /* brum pads every name to the longest */
      c->plen =
          (size_t)snprintf(c->prefix, sizeof c->prefix, "[%-*s] ", (int)width, args[2 * i + 1]);
      if (c->plen >= sizeof c->prefix) die("name too long");
      check_load(c);
   }
   Rate r;
   rate_parse(&r, rate);
   char* line = NULL;
   size_t len = 0, cap = 0;
   bool summary = false, stray = false;
   static char buf[1 << 16];
   for (;;) {
      ssize_t got = read(STDIN_FILENO, buf, rate_chunk(&r, sizeof buf));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      const char* p = buf;
      const char* end = buf + got;
      while (p < end) {
         const char* nl = memchr(p, '\n', (size_t)(end - p));
         size_t k = (size_t)((nl ? nl : end) - p);
         reserve(&line, &cap, len + k + 1);
         memcpy(line + len, p, k);
         len += k;
         if (!nl) break;
         p = nl + 1;
         size_t ll = len;
         len = 0;
         if (summary) continue;
         if (ll == strlen("── summary ──") && memcmp(line, "── summary ──", ll) == 0) {
            summary = true;
            continue;
         }
         size_t i = 0;
         while (i < nc && !(ll >= cs[i].plen && memcmp(line, cs[i].prefix, cs[i].plen) == 0)) i++;
         if (i < nc) {
            check_line(&cs[i], line, ll);
         } else if (!stray) {
            char g[80];
            head(g, line, ll);
            fprintf(stderr, "brum_lines: a line of no process: '%s'\n", g);
            stray = true;
         }
      }
      rate_took(&r, (size_t)got);
   }
   free(line);
   bool failed = stray;
   for (size_t i = 0; i < nc; i++) {
      Check* c = &cs[i];
      if (!c->failed && c->line < c->sp.count) {
         fprintf(stderr, "brum_lines: %s: only %" PRIu64 " of %" PRIu64 " lines arrived\n",
                 c->prefix, c->line, c->sp.count);
         c->failed = true;
      }
      if (!c->failed)
         fprintf(stderr,
                 "brum_lines: %s: ok: %" PRIu64 " lines (%" PRIu64 " pieces) once and in order\n",
                 c->prefix, c->sp.count, c->pieces);
      failed |= c->failed;
      free(c->want);
   }
   if (!summary) {
      fprintf(stderr, "brum_lines: no summary at the end (brum did not finish)\n");
      failed = true;
   }
   return failed ? 1 : 0;
}

int main(int argc, char** argv) {
   if (argc == 3 && strcmp(argv[1], "gen") == 0) return gen(argv[2]);
   if (argc >= 5 && strcmp(argv[1], "check") == 0) return check(argc - 3, argv + 2, argv[argc - 1]);
   if (argc == 3 && strcmp(argv[1], "slow") == 0) return slow(argv[2]);
   fprintf(stderr,
           "usage: brum_lines gen SPEC | check SPEC NAME [SPEC NAME]... RATE | slow RATE\n");
   return 2;
}
