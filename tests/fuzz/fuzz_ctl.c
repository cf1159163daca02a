/* libFuzzer target: the control server's request parser (core/ctl_request.c, through ctl_feed):
 * framing into lines, the 1 MiB line limit, JSON parsing, the hello, and dispatch to the
 * operations, on a supervisor with no processes (an operation that would start one finds none).
 * The first input byte chooses the read size the input is split into (a socket may split
 * anything anywhere); a second byte, when odd, puts a hello first so that inputs reach the
 * operations. Invariants: the replies are newline-terminated lines, each a JSON object with an
 * "ok" boolean (or an "event"), and nothing leaks or crashes. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl_transport.h"
#include "core/rcu.h"

static Sup* sup;

/* One supervisor for every input; a new one after an input made it quit (the quit op). */
static void ensure_sup(void) {
   if (sup && !sup_finished(sup)) return;
   sup_free(sup);
   SupConfig cfg = {.kill_timeout_s = 0.1, .cols = 80, .rows = 24};
   if (sup_new(&cfg, &sup, NULL) < 0) abort();
}

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerInitialize(int* argc, char*** argv) {
   (void)argc;
   (void)argv;
   rcu_register_thread(); /* the operations read RCU-published data on this thread */
   return 0;
}

static void check_replies(const char* out, size_t len) {
   if (strlen(out) != len) abort(); /* JSON text never holds a NUL */
   if (len && out[len - 1] != '\n') abort();
   for (const char* p = out; p < out + len;) {
      const char* nl = memchr(p, '\n', (size_t)(out + len - p));
      json_t* r = json_loadb(p, (size_t)(nl - p), 0, NULL);
      if (!json_is_object(r)) abort();
      if (!json_is_boolean(json_object_get(r, "ok")) && !json_object_get(r, "event")) abort();
      if (json_is_false(json_object_get(r, "ok")) &&
          !json_is_string(json_object_get(json_object_get(r, "error"), "code")))
         abort();
      json_decref(r);
      p = nl + 1;
   }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   if (size < 2) return 0;
   size_t chunk = data[0]; /* 0: one read */
   bool hello = data[1] & 1;
   data += 2;
   size -= 2;
   static const char h[] = "{\"id\":0,\"op\":\"hello\",\"protocol\":1,\"client\":\"fuzz\"}\n";
   size_t n = (hello ? sizeof h - 1 : 0) + size;
   char* in = malloc(n ? n : 1);
   if (!in) abort();
   if (hello) memcpy(in, h, sizeof h - 1);
   if (size) memcpy(in + (hello ? sizeof h - 1 : 0), data, size);
   ensure_sup();
   size_t len;
   char* out = ctl_feed(sup, "/fuzz", in, n, chunk, &len);
   check_replies(out, len);
   free(out);
   free(in);
   return 0;
}
