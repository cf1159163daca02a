/* brum_util: the terminal sanitiser, column counts, error messages. */
#include "core/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void utf8_locale(void) {
   setlocale(LC_ALL, "C.UTF-8");
}

TestSuite(util_text, .init = utf8_locale);

static void expect_sanitized(const char* in, const char* want) {
   char* got = util_sanitize(in);
   cr_expect_str_eq(got, want, "sanitize(%s)", in);
   free(got);
}

Test(util_text, sanitize_replaces_controls) {
   expect_sanitized("plain name:dev", "plain name:dev");
   expect_sanitized("a\x1b[2Jb", "a\xc2\xb7[2Jb");                               /* ESC */
   expect_sanitized("\a\t\r\n\x7f", "\xc2\xb7\xc2\xb7\xc2\xb7\xc2\xb7\xc2\xb7"); /* C0, DEL */
   expect_sanitized("x\xc2\x9b"
                    "31m",
                    "x\xc2\xb7"
                    "31m");                                                  /* C1 CSI, as UTF-8 */
   expect_sanitized("caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5"); /* kept */
   expect_sanitized("bad\x9b\xff", "bad\xef\xbf\xbd\xef\xbf\xbd"); /* invalid: U+FFFD each */
   expect_sanitized("cut\xe6\x97", "cut\xef\xbf\xbd\xef\xbf\xbd");
   expect_sanitized("", "");
}

Test(util_text, sanitize_never_grows_past_three_per_byte) {
   char in[257];
   for (int i = 0; i < 256; i++) in[i] = (char)(i ? i : 1);
   in[256] = '\0';
   char* got = util_sanitize(in);
   cr_expect_leq(strlen(got), 3 * 256);
   for (const unsigned char* p = (const unsigned char*)got; *p; p++)
      cr_expect(*p >= 0x20 && *p != 0x7f, "no control byte in the output (0x%02x)", *p);
   free(got);
}

Test(util_text, cols_counts_columns_not_bytes) {
   cr_expect_eq(util_cols("dev"), 3);
   cr_expect_eq(util_cols("a\xc2\xb7"
                          "b"),
                3);                                        /* middle dot: one column */
   cr_expect_eq(util_cols("\xe6\x97\xa5\xe6\x9c\xac"), 4); /* two wide characters */
   cr_expect_eq(util_cols(""), 0);
}

Test(util_text, strerror_says_what_to_do_for_emfile) {
   struct rlimit rl;
   cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
   char* m = util_strerror(-EMFILE);
   char want[96];
   snprintf(want, sizeof want, "too many open files (limit %llu): raise it with ulimit -n",
            (unsigned long long)rl.rlim_cur);
   cr_expect_str_eq(m, want);
   free(m);
   m = util_strerror(-ENOENT);
   cr_expect_str_eq(m, strerror(ENOENT));
   free(m);
}
