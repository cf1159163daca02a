/* The synthetic log line shared by the micro-benchmarks and flood_writer: ~100 bytes (104 on
 * average) of a web server's access log, deterministic in i; every `colour_every`th line carries
 * SGR codes (16-colour, 256-colour or truecolor, with a reset), as a dev server's coloured output
 * would. */
#include <inttypes.h>
#include <stdio.h>

#include "bench/bench.h"

static const char* const paths[] = {"/api/v1/users", "/api/v1/orders", "/static/app.js",
                                    "/healthz",      "/api/v2/search", "/login"};
static const char* const msgs[] = {
    "request completed",      "cache miss, fetching from upstream",
    "slow query detected",    "connection reset by peer",
    "retrying after backoff", "user session refreshed",
};
static const char* const levels[] = {"INFO ", "WARN ", "ERROR", "DEBUG"};
/* colour openers: 16-colour, 256-colour, truecolor (bold) */
static const char* const colours[] = {"\x1b[32m", "\x1b[38;5;208m", "\x1b[1;38;2;255;85;85m",
                                      "\x1b[36m"};

size_t bench_log_line(uint64_t i, unsigned colour_every, char* buf) {
   uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
   unsigned r = (unsigned)(h >> 40) % 100;
   unsigned lv = r < 80 ? 0 : r < 92 ? 1 : r < 97 ? 2 : 3;
   int coloured = colour_every && i % colour_every == 0;
   int n = snprintf(buf, 512,
                    "2024-05-01T12:%02u:%02u.%03uZ %s%s%s GET %s/%05u %u in %03ums "
                    "rid=%08" PRIx64 " %s",
                    (unsigned)(i / 60000 % 60), (unsigned)(i / 1000 % 60), (unsigned)(i % 1000),
                    coloured ? colours[(i / colour_every) % 4] : "", levels[lv],
                    coloured ? "\x1b[0m" : "", paths[(h >> 24) % (sizeof paths / sizeof paths[0])],
                    (unsigned)(h >> 30) % 100000, r < 92 ? 200u : 500u, (unsigned)(h >> 50) % 900,
                    (h >> 8) & 0xffffffffu, msgs[(h >> 12) % (sizeof msgs / sizeof msgs[0])]);
   return n < 0 ? 0 : (size_t)n;
}
