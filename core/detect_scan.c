/* The trigger word scan: one pass over a line finds the 4-byte words ("rror", "warn", "p://",
 * ...) that decide which rules may match it; portable (a hash of 3-byte fragments at even
 * offsets) and SSSE3 (the "Teddy" nibble screen, 16 window starts at a time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/detect_impl.h"
#include "core/util.h"
#ifdef DETECT_TEDDY
#include <immintrin.h>
#endif

static const struct {
   const char* word; /* 4 bytes; compared ASCII-case-folded (| 0x20 on every byte) */
   uint32_t fam;
} trigger_words[] = {
    {"rror", TW_ERR},   {"err!", TW_ERR},   {"err_", TW_ERR},     {"err]", TW_ERR},
    {"err:", TW_ERR},   {"err ", TW_ERR},   {"warn", TW_WARN},    {"fail", TW_FAIL},
    {"fata", TW_FATAL}, {"crit", TW_CRIT},  {"pani", TW_PANIC},   {"trac", TW_TRACE},
    {"xcep", TW_EXC},   {"caus", TW_EXC},   {"ncau", TW_UNC},     {"nhan", TW_UNC},
    {"p://", TW_URL},   {"s://", TW_URL},   {"test", TW_TEST},    {"pass", TW_PASS},
    {"pend", TW_PEND},  {"skip", TW_PEND},  {"todo", TW_PEND},    {"ok  ", TW_OK},
    {"t ok", TW_OK},    {"buil", TW_BUILD}, {"mpil", TW_COMPILE}, {"inis", TW_FINISH},
    {"✘ ", TW_SYM},     {"✕ ", TW_SYM},     {"✗ ", TW_SYM},       {"✖ ", TW_SYM},
    {"● ", TW_SYM},     {"▲ ", TW_SYM},     {"⨯ ", TW_SYM},       {"⚠ ", TW_SYM},
    {"✓ ", TW_SYM},     {" × ", TW_SYM},    {"goro", TW_GO},      {".go:", TW_GO},
    {"dule", TW_MISC},  {"plug", TW_MISC},  {"evel", TW_LEVEL},   {"n us", TW_INUSE},
};

/* The trigger hash: slot = the folded 4-byte word itself (0: empty; a folded word never is 0),
 * so a window costs one load and one compare; trig_fam holds the word's families. */
enum { HASH_BITS = 12 };
static uint32_t trig_tab[1u << HASH_BITS];
static uint32_t trig_fam[1u << HASH_BITS];
/* Prefilter for the prefilter: the 3-byte fragments at offsets 0 and 1 of every word. A word
 * at an even offset i shows its fragment 0 at i, at an odd one its fragment 1 at i + 1: so
 * even offsets suffice, and only a fragment hit looks up the words at i and i - 1. */
static uint32_t frag_tab[1u << HASH_BITS];
static uint32_t trig_mult;

/* The SIMD screen: for byte j (0..2) of a window, a table by low nibble and one by high nibble
 * of the folded byte give the buckets whose words may have that byte there (bit k: bucket k). */
static struct { uint8_t lo[3][16], hi[3][16]; } teddy __attribute__((aligned(16)));
static int scan_level; /* DETECT_SCAN_*: the trigger scan in use */
static int scan_best;  /* the best one this CPU has */

static inline uint32_t trig_hash(uint32_t w) {
   return (w * trig_mult) >> (32 - HASH_BITS);
}

/* The first 3 bytes of a 4-byte window, folded (the 4th byte zeroed). */
static inline uint32_t frag_of(uint32_t w) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
   return (w & 0xFFFFFF00u) | 0x20202000u;
#else
   return (w & 0x00FFFFFFu) | 0x00202020u;
#endif
}

/* Puts each trigger word in one of 8 buckets, each time the one whose accepted byte sets
 * (low nibbles x high nibbles, per position) grow least, and fills the nibble tables. */
static void teddy_init(void) {
   uint16_t lo[8][3] = {{0}}, hi[8][3] = {{0}}; /* nibble sets per bucket and position */
   for (size_t i = 0; i < ARRAY_LEN(trigger_words); i++) {
      uint8_t b[3];
      for (int j = 0; j < 3; j++) b[j] = (uint8_t)((uint8_t)trigger_words[i].word[j] | 0x20);
      int best = 0;
      uint64_t best_cost = UINT64_MAX;
      for (int k = 0; k < 8; k++) {
         uint64_t before = 1, after = 1;
         for (int j = 0; j < 3; j++) {
            uint16_t l = lo[k][j], h = hi[k][j];
            before *= (uint64_t)__builtin_popcount(l) * (uint64_t)__builtin_popcount(h);
            l |= (uint16_t)(1u << (b[j] & 15));
            h |= (uint16_t)(1u << (b[j] >> 4));
            after *= (uint64_t)__builtin_popcount(l) * (uint64_t)__builtin_popcount(h);
         }
         if (after - before < best_cost) best_cost = after - before, best = k;
      }
      for (int j = 0; j < 3; j++) {
         lo[best][j] |= (uint16_t)(1u << (b[j] & 15));
         hi[best][j] |= (uint16_t)(1u << (b[j] >> 4));
      }
   }
   memset(&teddy, 0, sizeof teddy);
   for (int k = 0; k < 8; k++)
      for (int j = 0; j < 3; j++)
         for (int x = 0; x < 16; x++) {
            if (lo[k][j] & (1u << x)) teddy.lo[j][x] |= (uint8_t)(1u << k);
            if (hi[k][j] & (1u << x)) teddy.hi[j][x] |= (uint8_t)(1u << k);
         }
#ifdef DETECT_TEDDY
   __builtin_cpu_init();
   /* (AVX2 and VEX-encoded versions of the same scan took more time in brum: not used) */
   if (__builtin_cpu_supports("ssse3")) scan_best = DETECT_SCAN_SSSE3;
#endif
   scan_level = scan_best;
}

void detect_scan_init(void) {
   /* Pick a multiplier that hashes the trigger words without collision. */
   static const uint32_t mults[] = {0x9E3779B1u, 0x85EBCA6Bu, 0xC2B2AE35u, 0x27D4EB2Fu,
                                    0x165667B1u, 0xD3A2646Cu, 0xFD7046C5u, 0xB55A4F09u};
   for (size_t m = 0; m < ARRAY_LEN(mults) && !trig_mult; m++) {
      memset(trig_tab, 0, sizeof trig_tab);
      memset(frag_tab, 0, sizeof frag_tab);
      trig_mult = mults[m];
      for (size_t i = 0; i < ARRAY_LEN(trigger_words) && trig_mult; i++) {
         uint32_t w;
         memcpy(&w, trigger_words[i].word, 4);
         w |= 0x20202020u;
         uint32_t h = trig_hash(w);
         if (trig_tab[h]) trig_mult = 0;
         trig_tab[h] = w;
         trig_fam[h] = trigger_words[i].fam;
         for (int off = 0; off < 2 && trig_mult; off++) {
            uint32_t f = 0;
            memcpy(&f, trigger_words[i].word + off, 3);
            f = frag_of(f);
            uint32_t fh = trig_hash(f);
            if (frag_tab[fh] && frag_tab[fh] != f) trig_mult = 0;
            frag_tab[fh] = f;
         }
      }
   }
   if (!trig_mult) {
      fputs("brum: detect: no collision-free trigger hash\n", stderr);
      abort();
   }
   teddy_init();
}

static inline uint32_t trigger_lookup(uint32_t w) {
   w |= 0x20202020u;
   uint32_t h = trig_hash(w);
   return __builtin_expect(trig_tab[h] == w, 0) ? trig_fam[h] : 0;
}

static inline uint32_t load32(const char* p) {
   uint32_t w;
   memcpy(&w, p, 4);
   return w;
}

/* The windows that run past the end, padded with blanks (so "ok  " matches a bare "ok"). */
static uint32_t trigger_tail(const char* s, uint32_t n) {
   uint32_t mask = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
   if (n >= 4) { /* the last 4 bytes shifted down, blanks shifted in */
      uint32_t w = load32(s + n - 4);
      return trigger_lookup((w >> 8) | 0x20000000u) | trigger_lookup((w >> 16) | 0x20200000u) |
             trigger_lookup((w >> 24) | 0x20202000u);
   }
#endif
   uint8_t b[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
   uint32_t from = n >= 3 ? n - 3 : 0;
   for (uint32_t k = from; k < n; k++) b[k - from] = (uint8_t)s[k];
   for (uint32_t k = 0; from + k < n; k++) {
      uint32_t w = (uint32_t)b[k] | (uint32_t)b[k + 1] << 8 | (uint32_t)b[k + 2] << 16 |
                   (uint32_t)b[k + 3] << 24;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
      w = __builtin_bswap32(w); /* as memcpy would have loaded it */
#endif
      mask |= trigger_lookup(w);
   }
   return mask;
}

/* One pass over the line: the families of trigger words it contains (the windows inside the
 * line at every offset, then the padded ones at the end). */
uint32_t detect_trigger_mask_portable(const char* s, uint32_t n) {
   uint32_t mask = 0, i = 0;
   for (; i + 4 <= n; i += 2) {
      uint32_t w = load32(s + i), f = frag_of(w);
      if (__builtin_expect(frag_tab[trig_hash(f)] == f, 0)) {
         mask |= trigger_lookup(w);
         if (i > 0) mask |= trigger_lookup(load32(s + i - 1));
      }
   }
   /* the word the even offsets cannot show: one ending at the last byte */
   if (n >= 4) mask |= trigger_lookup(load32(s + n - 4));
   return mask | trigger_tail(s, n);
}

#ifdef DETECT_TEDDY
/* The buckets whose words may start with the 3 bytes that end at each byte of v: its nibbles
 * looked up in the tables of positions 0, 1 and 2, the first two results shifted by 2 and 1
 * bytes with the previous chunk's (carried in *p0, *p1) in front. */
__attribute__((target("ssse3"))) static inline __m128i teddy_chunk(__m128i v, __m128i* p0,
                                                                   __m128i* p1) {
   const __m128i nib = _mm_set1_epi8(0x0f);
   v = _mm_or_si128(v, _mm_set1_epi8(0x20));
   __m128i lo = _mm_and_si128(v, nib), hi = _mm_and_si128(_mm_srli_epi16(v, 4), nib);
   __m128i r0 = _mm_and_si128(_mm_shuffle_epi8(_mm_load_si128((const void*)teddy.lo[0]), lo),
                              _mm_shuffle_epi8(_mm_load_si128((const void*)teddy.hi[0]), hi));
   __m128i r1 = _mm_and_si128(_mm_shuffle_epi8(_mm_load_si128((const void*)teddy.lo[1]), lo),
                              _mm_shuffle_epi8(_mm_load_si128((const void*)teddy.hi[1]), hi));
   __m128i r2 = _mm_and_si128(_mm_shuffle_epi8(_mm_load_si128((const void*)teddy.lo[2]), lo),
                              _mm_shuffle_epi8(_mm_load_si128((const void*)teddy.hi[2]), hi));
   __m128i r =
       _mm_and_si128(r2, _mm_and_si128(_mm_alignr_epi8(r0, *p0, 14), _mm_alignr_epi8(r1, *p1, 15)));
   *p0 = r0, *p1 = r1;
   return r;
}

/* The same as detect_trigger_mask_portable with SSSE3, 16 bytes at a time: a window start survives
 * if its first 3 bytes fit one bucket's nibble tables, and only a survivor looks up its word. */
__attribute__((target("ssse3"))) uint32_t detect_trigger_mask_ssse3(const char* s, uint32_t n) {
   /* shift_ctl + 16 - k: a shuffle that moves the last k bytes of a vector to its front */
   static const int8_t shift_ctl[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                        11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
   uint32_t mask = 0;
   if (n >= 4) {
      __m128i p0 = _mm_setzero_si128(), p1 = _mm_setzero_si128();
      for (uint32_t base = 0; base < n; base += 16) {
         __m128i v;
         uint32_t left = n - base;
         if (left >= 16) {
            v = _mm_loadu_si128((const void*)(s + base));
         } else if (n >= 16) { /* the last 16 bytes of the line, the wanted ones moved down */
            v = _mm_shuffle_epi8(_mm_loadu_si128((const void*)(s + n - 16)),
                                 _mm_loadu_si128((const void*)(shift_ctl + 16 - left)));
         } else {
            uint8_t pad[16] = {0};
            memcpy(pad, s + base, left);
            v = _mm_loadu_si128((const void*)pad);
         }
         __m128i r = teddy_chunk(v, &p0, &p1);
         /* bit i: a window starting at base + i - 2; the last inside the line starts at n - 4 */
         uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_setzero_si128())) ^ 0xFFFFu;
         if (left < 17) m &= (1u << (left - 1)) - 1; /* i <= left - 2 */
         while (__builtin_expect(m != 0, 0)) {
            mask |= trigger_lookup(load32(s + base + (uint32_t)__builtin_ctz(m) - 2));
            m &= m - 1;
         }
      }
   }
   return mask | trigger_tail(s, n);
}

#endif

uint32_t detect_trigger_mask(const char* s, uint32_t n) {
#ifdef DETECT_TEDDY
   if (scan_level == DETECT_SCAN_SSSE3) return detect_trigger_mask_ssse3(s, n);
#endif
   return detect_trigger_mask_portable(s, n);
}

int detect_set_scan(int level) {
   detect_init_once();
   scan_level = level < 0 || level > scan_best ? scan_best : level;
   return scan_level;
}
