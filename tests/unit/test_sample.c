/* Resource sampling and the port-in-use diagnosis: the /proc parsers (fixture text), the CPU
 * figure, the failed-bind messages of each ecosystem, and a live lookup of a port's holder. */
#include "core/sample.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/detect.h"

/* /proc/net/tcp as Linux writes it: a listener on 127.0.0.1:3000, one on 0.0.0.0:5173, an
 * established connection (state 01) and a TIME_WAIT (06) that must not count. */
static const char tcp4[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "123456 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:1435 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "777 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0100007F:0BB8 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "999 1 0000000000000000 20 4 30 10 -1\n"
    "   3: 0100007F:1F90 0100007F:D2F1 06 00000000:00000000 03:00000F2A 00000000     0        0 "
    "0 3 0000000000000000\n"
    "garbage line\n";
static const char tcp6[] =
    "  sl  local_address                         remote_address                        st tx_queue "
    "rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n";

Test(sample, parse_tcp_listeners_only) {
   NetListen* l = NULL;
   size_t n = 0, cap = 0;
   cr_assert_eq(sample_parse_tcp(tcp4, &l, &n, &cap), 2);
   cr_assert_eq(sample_parse_tcp(tcp6, &l, &n, &cap), 1);
   cr_assert_eq(n, 3);
   cr_expect_eq(l[0].port, 3000);
   cr_expect_eq(l[0].inode, 123456);
   cr_expect_eq(l[1].port, 5173);
   cr_expect_eq(l[1].inode, 777);
   cr_expect_eq(l[2].port, 8080);
   cr_expect_eq(l[2].inode, 4242);
   free(l);
   n = cap = 0;
   l = NULL;
   cr_expect_eq(sample_parse_tcp("", &l, &n, &cap), 0);
   cr_expect_eq(sample_parse_tcp("header only\n", &l, &n, &cap), 0);
   free(l);
}

Test(sample, parse_stat) {
   /* a command with spaces and a parenthesis; session 3999, utime 150, stime 50, rss 2560 pages */
   const char st[] = "4001 (node (x) y) S 4000 4000 3999 34816 4000 4194304 100 0 0 0 150 50 0 "
                     "0 20 0 7 0 12345 1234567 2560 18446744073709551615 1 1 0 0 0 0 0\n";
   int sid;
   uint64_t ticks, rss;
   cr_assert(sample_parse_stat(st, strlen(st), &sid, &ticks, &rss));
   cr_expect_eq(sid, 3999);
   cr_expect_eq(ticks, 200);
   cr_expect_eq(rss, 2560);
   cr_expect_not(sample_parse_stat("12 (x) S 1 2", 12, &sid, &ticks, &rss));
   cr_expect_not(sample_parse_stat("no paren", 8, &sid, &ticks, &rss));
}

Test(sample, cpu_permille) {
   cr_expect_eq(sample_cpu_permille(200, 2000, 100), 1000); /* one core busy */
   cr_expect_eq(sample_cpu_permille(50, 2000, 100), 250);
   cr_expect_eq(sample_cpu_permille(400, 2000, 100), 2000); /* two cores */
   cr_expect_eq(sample_cpu_permille(1, 2000, 100), 5);
   cr_expect_eq(sample_cpu_permille(0, 2000, 100), 0);
   cr_expect_eq(sample_cpu_permille(10, 0, 100), 0);
}

Test(sample, bind_messages) {
   struct {
      const char* line;
      int port;
   } cases[] = {
       {"Error: listen EADDRINUSE: address already in use :::3000", 3000},
       {"Error: listen EADDRINUSE: address already in use 127.0.0.1:3000", 3000},
       {"Error: listen EADDRINUSE: address already in use [::1]:4000", 4000},
       {"error when starting dev server:", 0},
       {"Error: Port 5173 is already in use", 5173},
       /* the server moves to another port: nothing failed, nothing to diagnose */
       {" ⚠ Port 3000 is in use, trying 3001 instead.", 0},
       {"Port 5173 is in use, trying another one...", 0},
       {"Transport 5 in use", 0},
       {"OSError: [Errno 98] Address already in use", -1},
       {"2024/01/02 10:00:00 listen tcp :8080: bind: address already in use", 8080},
       {"listen tcp 127.0.0.1:9090: bind: address already in use", 9090},
       {"Error: listen EADDRINUSE: address already in use", -1},
       {"the disk is in use by another program", 0},
       {"GET / 200 in 12ms", 0},
   };
   for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
      cr_expect_eq(portuse_parse_line(cases[i].line, strlen(cases[i].line)), cases[i].port, "%s",
                   cases[i].line);
}

Test(sample, port_from_command) {
   char sh[] = "sh", dc[] = "-c", cmd[] = "python3 -m http.server 8000";
   char* a[] = {sh, dc, cmd, NULL};
   cr_expect_eq(portuse_port_from_argv(a), 8000);
   char uv[] = "uvicorn", app[] = "app:app", port[] = "--port=8123";
   char* b[] = {uv, app, port, NULL};
   cr_expect_eq(portuse_port_from_argv(b), 8123);
   char py[] = "python3", mg[] = "manage.py", rs[] = "runserver", addr[] = "0.0.0.0:8001";
   char* c[] = {py, mg, rs, addr, NULL};
   cr_expect_eq(portuse_port_from_argv(c), 8001);
   char w[] = "-W", two[] = "2", apy[] = "app.py";
   char* d[] = {py, w, two, apy, NULL};
   cr_expect_eq(portuse_port_from_argv(d), 0);
}

Test(sample, holder_is_found) {
   int fd = socket(AF_INET, SOCK_STREAM, 0);
   cr_assert_geq(fd, 0);
   struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
   cr_assert_eq(bind(fd, (struct sockaddr*)&a, sizeof a), 0);
   cr_assert_eq(listen(fd, 1), 0);
   socklen_t len = sizeof a;
   cr_assert_eq(getsockname(fd, (struct sockaddr*)&a, &len), 0);
   PortHolder h;
   cr_assert(portuse_find_holder(ntohs(a.sin_port), &h));
   cr_expect_eq(h.pid, getpid());
   cr_expect_eq(h.sid, getsid(0));
   cr_expect_neq(h.cmd[0], '\0'); /* Criterion's worker renames itself: no name to compare */
   close(fd);
   cr_expect_not(portuse_find_holder(ntohs(a.sin_port), &h));
}

Test(sample, note_joins_the_error_entry) {
   Detector* d = detect_new();
   const char* l = "Error: listen EADDRINUSE: address already in use :::3000";
   detect_line(d, l, (uint32_t)strlen(l), 0, 1);
   detect_note(d, 0, 2, "port 3000 is held by pid 1 (init)");
   detect_note(d, 50, 3, "port 8080 is held by pid 2 (go)"); /* a line no entry holds */
   DetectSnap* s = detect_snapshot(d);
   cr_assert_eq(s->nentries, 2);
   cr_expect(strstr(s->entries[0].title, "EADDRINUSE") && strstr(s->entries[0].title, "pid 1"),
             "%s", s->entries[0].title);
   cr_expect_str_eq(s->entries[1].title, "port 8080 is held by pid 2 (go)");
   cr_expect_str_eq(s->entries[1].rule, "port");
   cr_expect_eq(s->errors, 2);
   free(s);
   detect_free(d);
}

/* The "in use" screen (16 starts at a time, the last block overlapping) at every offset and line
 * length: the first one found, none where there is none, and nothing past the line's end. */
Test(sample, bind_message_at_every_offset) {
   const char* near = "in usx im use in  use iin us uuse e in u"; /* no "in use" in it */
   char line[256];
   for (int k = 0; k <= 60; k++) {
      for (int j = 0; j <= 40; j += 7) {
         int n = snprintf(line, sizeof line, "EADDRINUSE %.*s", k, near + k % 5);
         n += snprintf(line + n, sizeof line - (size_t)n, "in use :::3000 %.*s in use :::4000", j,
                       near);
         cr_expect_eq(portuse_parse_line(line, (size_t)n), 3000, "%s", line);
         /* the same line cut right after the first "in use", and one byte before it */
         const char* use = strstr(line, "in use");
         size_t at = (size_t)(use - line) + 6;
         cr_expect_eq(portuse_parse_line(line, at), -1, "%.*s", (int)at, line);
         cr_expect_eq(portuse_parse_line(line, at - 1), 0, "%.*s", (int)(at - 1), line);
      }
   }
   /* random lines of the letters of "in use": found exactly where memmem finds it */
   uint32_t seed = 12345;
   for (int i = 0; i < 20000; i++) {
      int n = snprintf(line, sizeof line, "EADDRINUSE ");
      int len = i % 90;
      for (int c = 0; c < len; c++) {
         seed = seed * 1103515245u + 12345u;
         line[n++] = "inuse x"[(seed >> 16) % 7];
      }
      line[n] = '\0';
      int want = memmem(line, (size_t)n, "in use", 6) ? -1 : 0;
      cr_assert_eq(portuse_parse_line(line, (size_t)n), want, "%s", line);
   }
}

/* The detection thread runs the check only on lines whose trigger scan saw "n us": every line the
 * check answers must pass that screen, with either scan (portable, SSSE3), at any offset. */
Test(sample, the_detectors_screen_lets_every_bind_message_through) {
   static const char* lines[] = {
       "Error: listen EADDRINUSE: address already in use :::3000",
       "OSError: [Errno 98] Address already in use",
       "2024/01/02 10:00:00 listen tcp :8080: bind: address already in use",
       "Error: Port 5173 is already in use",
       "Address already in use",
       "EADDRINUSE in use",
   };
   char line[256];
   for (int level = DETECT_SCAN_PORTABLE; level <= DETECT_SCAN_SSSE3; level++) {
      if (detect_set_scan(level) != level) continue; /* a CPU without SSSE3 */
      Detector* d = detect_new();
      uint64_t lineno = 0;
      for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
         for (int pad = 0; pad < 40; pad++) {
            int n = snprintf(line, sizeof line, "%*s%s", pad, "", lines[i]);
            cr_assert_neq(portuse_parse_line(line, (size_t)n), 0, "%s", line);
            detect_line(d, line, (uint32_t)n, lineno++, 0);
            cr_expect(detect_last_in_use(d), "scan %d: \"%s\" screened out", level, line);
         }
      uint32_t seed = 777;
      for (int i = 0; i < 20000; i++) {
         int n = i % 80;
         for (int c = 0; c < n; c++) {
            seed = seed * 1103515245u + 12345u;
            line[c] = "inuse x:3"[(seed >> 16) % 9];
         }
         bool has = memmem(line, (size_t)n, "in use", 6) != NULL;
         detect_line(d, line, (uint32_t)n, lineno++, 0);
         if (has)
            cr_assert(detect_last_in_use(d), "scan %d: \"%.*s\" screened out", level, n, line);
      }
      detect_free(d);
   }
   detect_set_scan(-1);
}
