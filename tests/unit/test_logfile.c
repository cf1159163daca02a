/* Log files (--log-dir): safe names, run headers, rotation, what a full buffer drops. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/logfile.h"
#include "core/util.h"

static char dir[64];

static void setup(void) {
   snprintf(dir, sizeof dir, "/tmp/brum-logfile-XXXXXX");
   cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
   char* cmd = xasprintf("rm -rf '%s'", dir);
   int rc = system(cmd);
   (void)rc;
   free(cmd);
}

static char* slurp(const char* path) {
   FILE* f = fopen(path, "r");
   if (!f) return NULL;
   char* buf = xcalloc(1, 1 << 20);
   size_t n = fread(buf, 1, (1 << 20) - 1, f);
   buf[n] = '\0';
   fclose(f);
   return buf;
}

static char* file_in(const char* name) {
   return xasprintf("%s/%s", dir, name);
}

static size_t count_of(const char* text, const char* needle) {
   size_t n = 0;
   for (const char* p = text; (p = strstr(p, needle)); p += strlen(needle)) n++;
   return n;
}

Test(logfile, safe_names) {
   char* s = logfile_safe_name("@vitejs/plugin-legacy:build");
   cr_assert_str_eq(s, "@vitejs%2Fplugin-legacy:build");
   free(s);
   s = logfile_safe_name("100%\x1b[31m\n\x7f ok é");
   cr_assert_str_eq(s, "100%25%1B[31m%0A%7F ok é");
   free(s);
   char long_name[600];
   memset(long_name, '/', sizeof long_name - 1);
   long_name[sizeof long_name - 1] = '\0';
   s = logfile_safe_name(long_name);
   cr_assert_leq(strlen(s), 212, "bounded for NAME_MAX (255) with .log.N");
   char* cut = strchr(s, '~');
   cr_assert_not_null(cut, "a cut name ends with a hash of the whole name");
   cr_assert_eq((size_t)(cut - s) % 3, 0, "never half an escape");
   long_name[sizeof long_name - 2] = 'x'; /* differs after the first 200 bytes */
   char* s2 = logfile_safe_name(long_name);
   cr_assert_str_neq(s, s2, "names that differ only past the cut get files of their own");
   free(s2);
   free(s);
}

Test(logfile, header_lines_and_markers, .init = setup, .fini = teardown) {
   LogFileConfig cfg = {.dir = dir};
   LogFiles* lf;
   cr_assert_eq(logfiles_new(&cfg, &lf, NULL), 0);
   LogSink* s = logfiles_sink(lf, "@scope/web:dev");
   cr_assert_eq(logfiles_sink(lf, "@scope/web:dev"), s, "one sink per name");
   logsink_run(s, 1, "vite --port 5173");
   logsink_line(s, "hello", 5, false, false);
   logsink_raw(s, "\x1b[31mraw\n", 9); /* plain mode: ignored */
   logsink_line(s, "── exited with code 1 ──", strlen("── exited with code 1 ──"), false, true);
   logsink_run(s, 2, "vite --port 5173");
   logsink_line(s, "again", 5, false, false);
   logfiles_free(lf);
   char* path = file_in("@scope%2Fweb:dev.log");
   char* text = slurp(path);
   cr_assert_not_null(text, "%s written", path);
   cr_assert_eq(count_of(text, " run 1: vite --port 5173 ===\n"), 1, "%s", text);
   cr_assert_eq(count_of(text, " run 2: vite --port 5173 ===\n"), 1, "%s", text);
   cr_assert(strncmp(text, "=== 20", 6) == 0, "starts with the dated header: %s", text);
   cr_assert_not_null(strstr(text, "===\nhello\n── exited with code 1 ──\n=== "), "%s", text);
   cr_assert_null(strstr(text, "raw"), "raw bytes are not in a plain log");
   cr_assert(strlen(text) > 6 && strcmp(text + strlen(text) - 6, "again\n") == 0, "%s", text);
   free(text);
   free(path);
}

Test(logfile, raw_mode_keeps_bytes, .init = setup, .fini = teardown) {
   LogFileConfig cfg = {.dir = dir, .raw = true};
   LogFiles* lf;
   cr_assert_eq(logfiles_new(&cfg, &lf, NULL), 0);
   LogSink* s = logfiles_sink(lf, "web");
   logsink_run(s, 1, "x");
   logsink_line(s, "red", 3, false, false); /* the parsed line: not in a raw log */
   logsink_raw(s, "\x1b[31mred\x1b[0m\r\nunfinished", 24);
   logsink_line(s, "── stopped ──", strlen("── stopped ──"), false, true);
   logfiles_free(lf);
   char* path = file_in("web.log");
   char* text = slurp(path);
   cr_assert_not_null(strstr(text, "===\n\x1b[31mred\x1b[0m\r\nunfinished\n── stopped ──\n"),
                      "a marker starts on a line of its own: %s", text);
   free(text);
   free(path);
}

Test(logfile, rotation_keeps_n_files, .init = setup, .fini = teardown) {
   LogFileConfig cfg = {.dir = dir, .max_size = 200, .keep = 2};
   LogFiles* lf;
   cr_assert_eq(logfiles_new(&cfg, &lf, NULL), 0);
   LogSink* s = logfiles_sink(lf, "api");
   char line[32];
   for (int i = 0; i < 100; i++) {
      int n = snprintf(line, sizeof line, "line %03d of the api", i); /* 20 bytes + \n */
      logsink_line(s, line, (size_t)n, false, false);
   }
   logfiles_free(lf);
   const char* names[] = {"api.log", "api.log.1", "api.log.2"};
   for (size_t i = 0; i < 3; i++) {
      char* p = file_in(names[i]);
      struct stat st;
      cr_assert_eq(stat(p, &st), 0, "%s exists", p);
      cr_assert_leq(st.st_size, 200, "%s: %lld bytes", p, (long long)st.st_size);
      cr_assert_geq(st.st_size, 180, "%s full before rotating", p);
      free(p);
   }
   char* p3 = file_in("api.log.3");
   cr_assert_neq(access(p3, F_OK), 0, "only 2 rotated files kept");
   free(p3);
   char* p = file_in("api.log");
   char* text = slurp(p);
   cr_assert(strstr(text, "line 099 of the api\n"), "the newest lines in NAME.log");
   free(text);
   free(p);
   p = file_in("api.log.1");
   text = slurp(p);
   cr_assert(strstr(text, "line 089 of the api\n"), "the ones before in .1: %s", text);
   free(text);
   free(p);
}

Test(logfile, full_buffer_drops_and_counts, .init = setup, .fini = teardown) {
   LogFileConfig cfg = {.dir = dir, .buffer = 8192};
   LogFiles* lf;
   cr_assert_eq(logfiles_new(&cfg, &lf, NULL), 0);
   LogSink* s = logfiles_sink(lf, "flood");
   logfiles_hold(lf, true); /* a disk that does not keep up */
   char line[64];
   enum { N = 1000 };
   for (int i = 0; i < N; i++) {
      int n = snprintf(line, sizeof line, "flood line %04d", i);
      logsink_line(s, line, (size_t)n, false, false);
   }
   uint64_t dropped = logfiles_dropped(lf);
   cr_assert_gt(dropped, 800, "a 4 KiB half holds ~100 such lines: %llu dropped",
                (unsigned long long)dropped);
   cr_assert_lt(dropped, N);
   logfiles_hold(lf, false);
   logfiles_sync(lf);
   logsink_line(s, "after", 5, false, false);
   logfiles_free(lf);
   char* p = file_in("flood.log");
   char* text = slurp(p);
   char want[96];
   snprintf(want, sizeof want, "=== %llu lines dropped: the disk was too slow ===\nafter\n",
            (unsigned long long)dropped);
   cr_assert_not_null(strstr(text, want), "said where they went missing: %s", text);
   size_t kept = count_of(text, "flood line ");
   cr_assert_eq(kept + dropped, N, "every line written or counted: %zu + %llu", kept,
                (unsigned long long)dropped);
   cr_assert(strstr(text, "flood line 0000\n"), "the first lines made it");
   free(text);
   free(p);
}

static char error_text[512];
static void on_error(void* ud, const char* text) {
   (void)ud;
   snprintf(error_text, sizeof error_text, "%s", text);
}

Test(logfile, a_file_that_cannot_open_stops_its_sink, .init = setup, .fini = teardown) {
   char* blocker = file_in("web.log"); /* a directory where the file should be */
   cr_assert_eq(mkdir(blocker, 0755), 0);
   LogFileConfig cfg = {.dir = dir, .on_error = on_error};
   LogFiles* lf;
   cr_assert_eq(logfiles_new(&cfg, &lf, NULL), 0);
   LogSink* s = logfiles_sink(lf, "web");
   LogSink* ok = logfiles_sink(lf, "api");
   logsink_line(s, "x", 1, false, false);
   logsink_line(ok, "y", 1, false, false);
   logfiles_sync(lf);
   cr_assert_not_null(strstr(error_text, "web.log: cannot open it: Is a directory; web is not "
                                         "logged any more"),
                      "%s", error_text);
   logsink_line(s, "z", 1, false, false); /* ignored from now on */
   logfiles_free(lf);
   char* p = file_in("api.log");
   char* text = slurp(p);
   cr_assert_str_eq(text, "y\n", "the other process goes on");
   free(text);
   free(p);
   free(blocker);
}

Test(logfile, a_directory_that_cannot_be_made_says_why) {
   LogFileConfig cfg = {.dir = "/proc/brum-no/such"};
   LogFiles* lf = NULL;
   char* cause = NULL;
   cr_assert_lt(logfiles_new(&cfg, &lf, &cause), 0);
   cr_assert_null(lf);
   cr_assert_not_null(strstr(cause, "cannot create the log directory /proc/brum-no/such: "), "%s",
                      cause);
   free(cause);
}

Test(logfile, a_full_disk_stops_its_sink_and_says_so, .init = setup, .fini = teardown) {
   char* full = file_in("full.log"); /* every write to /dev/full fails with ENOSPC */
   cr_assert_eq(symlink("/dev/full", full), 0);
   error_text[0] = '\0';
   LogFileConfig cfg = {.dir = dir, .on_error = on_error};
   LogFiles* lf;
   cr_assert_eq(logfiles_new(&cfg, &lf, NULL), 0);
   LogSink* s = logfiles_sink(lf, "full");
   logsink_line(s, "x", 1, false, false);
   logfiles_sync(lf);
   cr_assert_not_null(strstr(error_text, "full.log: cannot write it: No space left on device; "
                                         "full is not logged any more"),
                      "%s", error_text);
   logfiles_free(lf);
   free(full);
}
