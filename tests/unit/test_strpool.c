/* The string pool the supervisor keeps launch descriptions in. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/strpool.h"

Test(strpool, equal_strings_share_one_copy) {
   StrPool* sp = strpool_new();
   char a[] = "PATH=/usr/bin", b[] = "PATH=/usr/bin";
   const char* x = strpool_intern(sp, a);
   cr_assert_neq(x, a, "a copy, not the caller's string");
   cr_assert_eq(strpool_intern(sp, b), x);
   cr_assert_str_eq(x, "PATH=/usr/bin");
   cr_assert_neq(strpool_intern(sp, "PATH=/bin"), x);
   cr_assert_str_eq(strpool_intern(sp, ""), "");
   cr_assert_eq(strpool_count(sp), 3);
   strpool_free(sp);
}

Test(strpool, pointers_survive_growth) {
   StrPool* sp = strpool_new();
   enum { N = 10000 };
   static const char* first[N];
   char buf[32];
   for (int i = 0; i < N; i++) {
      snprintf(buf, sizeof buf, "VAR_%d=%d", i, i * 7);
      first[i] = strpool_intern(sp, buf);
   }
   cr_assert_eq(strpool_count(sp), N);
   for (int i = 0; i < N; i++) {
      snprintf(buf, sizeof buf, "VAR_%d=%d", i, i * 7);
      cr_assert_eq(strpool_intern(sp, buf), first[i], "entry %d", i);
      cr_assert_str_eq(first[i], buf);
   }
   cr_assert_eq(strpool_count(sp), N, "nothing added twice");
   cr_assert_geq(strpool_bytes(sp), (size_t)N * 10);
   strpool_free(sp);
}
