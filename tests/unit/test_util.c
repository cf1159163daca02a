/* brum_util: reading files that may not be files (FIFOs, devices, directories), sizes in words,
 * the log that cannot be opened. */
#include "core/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/brum-util-XXXXXX";

static void setup(void) {
   strcpy(dir, "/tmp/brum-util-XXXXXX");
   cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
   char* cmd = xasprintf("rm -rf '%s'", dir);
   cr_expect_eq(system(cmd), 0);
   free(cmd);
}

TestSuite(util, .init = setup, .fini = teardown);

Test(util, read_file_whole) {
   char* path = xasprintf("%s/f", dir);
   FILE* f = fopen(path, "w");
   cr_assert_not_null(f);
   fputs("hello\nworld", f);
   fclose(f);
   char* text = NULL;
   size_t len = 0;
   char* why = NULL;
   cr_assert_eq(util_read_file(path, 100, &text, &len, &why), 0);
   cr_expect_null(why);
   cr_expect_eq(len, 11);
   cr_expect_str_eq(text, "hello\nworld");
   free(text);
   /* Exactly at the limit is fine; one byte over is not. */
   cr_expect_eq(util_read_file(path, 11, &text, &len, &why), 0);
   free(text);
   cr_expect_eq(util_read_file(path, 10, &text, &len, &why), -EFBIG);
   cr_expect_null(text);
   cr_expect(why && strstr(why, "11 bytes") && strstr(why, "limit of 10 bytes"), "why: %s", why);
   free(why);
   free(path);
}

/* The timeout turns the old blocking open() into a failure, not a hang. */
Test(util, fifo_device_directory_refused, .timeout = 10) {
   char* fifo = xasprintf("%s/fifo", dir);
   cr_assert_eq(mkfifo(fifo, 0644), 0);
   char* text = NULL;
   size_t len;
   char* why = NULL;
   cr_expect_eq(util_read_file(fifo, 100, &text, &len, &why), -EINVAL);
   cr_expect(why && strstr(why, "FIFO (named pipe), not a regular file"), "why: %s", why);
   free(why);
   cr_expect_eq(util_read_file("/dev/null", 100, &text, &len, &why), -EINVAL);
   cr_expect(why && strstr(why, "character device"), "why: %s", why);
   free(why);
   cr_expect_eq(util_read_file(dir, 100, &text, &len, &why), -EISDIR);
   cr_expect_str_eq(why, "it is a directory, not a file");
   free(why);
   /* Writing: a FIFO without a reader, and with one (opened here first, without blocking). */
   cr_expect_eq(util_open_regular(fifo, O_WRONLY | O_APPEND | O_CREAT, 0644, &why), -EINVAL);
   cr_expect(why && strstr(why, "FIFO"), "why: %s", why);
   free(why);
   int rd = open(fifo, O_RDONLY | O_NONBLOCK);
   cr_assert_geq(rd, 0);
   cr_expect_eq(util_open_regular(fifo, O_WRONLY | O_APPEND | O_CREAT, 0644, NULL), -EINVAL);
   close(rd);
   free(fifo);
}

Test(util, log_open_refuses_and_says_why, .timeout = 10) {
   char* fifo = xasprintf("%s/log.fifo", dir);
   cr_assert_eq(mkfifo(fifo, 0644), 0);
   char* cause = NULL;
   cr_expect_eq(util_log_open_cause(fifo, &cause), -EINVAL);
   char* want = xasprintf("cannot write the log %s: it is a FIFO", fifo);
   cr_expect(cause && strncmp(cause, want, strlen(want)) == 0, "cause: %s", cause);
   free(want);
   free(cause);
   cr_expect_eq(util_log_open(fifo), -EINVAL);
   cr_expect_eq(util_log_open_cause(dir, NULL), -EISDIR);
   char* ok = xasprintf("%s/brum.log", dir);
   cr_expect_eq(util_log_open_cause(ok, &cause), 0);
   cr_expect_null(cause);
   util_log("one %d", 1);
   util_log_close();
   char* text = NULL;
   size_t len;
   cr_assert_eq(util_read_file(ok, 4096, &text, &len, NULL), 0);
   cr_expect(strstr(text, " one 1\n"), "log: %s", text);
   free(text);
   free(ok);
   free(fifo);
}

Test(util, size_str) {
   static const struct {
      uint64_t n;
      const char* want;
   } cases[] = {
       {0, "0 bytes"},          {1, "1 byte"},           {1023, "1023 bytes"},
       {1024, "1 KiB"},         {1536, "1.5 KiB"},       {256 * 1024, "256 KiB"},
       {64ull << 20, "64 MiB"}, {70ull << 20, "70 MiB"}, {(70ull << 20) + 100000, "70.1 MiB"},
       {3ull << 30, "3 GiB"},
   };
   for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
      char* s = util_size_str(cases[i].n);
      cr_expect_str_eq(s, cases[i].want);
      free(s);
   }
}

/* --log /dev/null asks for no log: accepted without a word (other devices are refused). */
Test(util, log_to_dev_null_is_no_log) {
   char* cause = NULL;
   cr_expect_eq(util_log_open_cause("/dev/null", &cause), 0);
   cr_expect_null(cause);
   util_log("not written anywhere");
   util_log_close();
   cr_expect_lt(util_log_open_cause("/dev/zero", &cause), 0);
   cr_expect(cause && strstr(cause, "/dev/zero"), "cause: %s", cause);
   free(cause);
}
