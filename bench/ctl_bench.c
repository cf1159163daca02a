/* The control socket's cost: round trips of `ps` and of a 1,000-line `logs` read against a running
 * instance (p50/p99 over many calls, one connection), and a load mode for the key-latency run:
 * N threads, each with its own connection, reading the last 1,000 lines in a loop until killed.
 * Usage: ctl_bench -d DIR [--calls N]        round trips, printed as markdown rows
 *        ctl_bench -d DIR --poll N           N polling clients until SIGTERM */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ctl_client.h"
#include "core/util.h"

static CtlInstance inst;
static atomic_bool stop;
static atomic_ulong polls;

static CtlClient* connect_or_die(void) {
   CtlClient* c;
   char* cause = NULL;
   if (ctl_connect(&inst, "bench", &c, NULL, &cause) < 0) {
      fprintf(stderr, "ctl_bench: %s\n", cause ? cause : "cannot connect");
      exit(1);
   }
   return c;
}

static json_t* call_or_die(CtlClient* c, json_t* req) {
   json_t* reply;
   char* cause = NULL;
   if (ctl_call(c, req, 10000, &reply, &cause) < 0) {
      fprintf(stderr, "ctl_bench: %s\n", cause ? cause : "call failed");
      exit(1);
   }
   if (!json_is_true(json_object_get(reply, "ok"))) {
      char* s = json_dumps(reply, JSON_COMPACT);
      fprintf(stderr, "ctl_bench: error reply: %s\n", s);
      exit(1);
   }
   return reply;
}

static int cmp_u64(const void* a, const void* b) {
   uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
   return x < y ? -1 : x > y;
}

/* Times `calls` round trips of req (the id is set per call); prints a markdown row. */
static void round_trips(const char* label, json_t* req, int calls) {
   CtlClient* c = connect_or_die();
   uint64_t* ns = xcalloc((size_t)calls, sizeof *ns);
   size_t items = 0, bytes = 0;
   for (int i = 0; i < calls; i++) {
      json_object_set_new(req, "id", json_integer(i + 1));
      uint64_t t0 = util_mono_ns();
      json_t* reply = call_or_die(c, req);
      ns[i] = util_mono_ns() - t0;
      if (i == 0) {
         json_t* arr = json_object_get(reply, "lines");
         if (!arr) arr = json_object_get(reply, "processes");
         items = json_array_size(arr);
         char* s = json_dumps(reply, JSON_COMPACT);
         bytes = strlen(s);
         free(s);
      }
      json_decref(reply);
   }
   qsort(ns, (size_t)calls, sizeof *ns, cmp_u64);
   printf("| %s | %d | %zu items, %zu bytes | %.3f ms | %.3f ms | %.3f ms |\n", label, calls, items,
          bytes, ns[calls / 2] / 1e6, ns[(size_t)(calls * 0.99)] / 1e6, ns[calls - 1] / 1e6);
   free(ns);
   ctl_close(c);
}

static void* poller(void* arg) {
   (void)arg;
   CtlClient* c = connect_or_die();
   json_t* req = json_pack("{s:s,s:i}", "op", "logs", "limit", 1000);
   for (int i = 1; !atomic_load(&stop); i++) {
      json_object_set_new(req, "id", json_integer(i));
      json_decref(call_or_die(c, req));
      atomic_fetch_add(&polls, 1);
   }
   json_decref(req);
   ctl_close(c);
   return NULL;
}

static void on_term(int sig) {
   (void)sig;
   atomic_store(&stop, true);
}

static int poll_mode(int n) {
   struct sigaction sa = {.sa_handler = on_term};
   sigaction(SIGTERM, &sa, NULL);
   sigaction(SIGINT, &sa, NULL);
   pthread_t* t = xcalloc((size_t)n, sizeof *t);
   uint64_t t0 = util_mono_ns();
   for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, poller, NULL);
   for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
   double s = (util_mono_ns() - t0) / 1e9;
   fprintf(stderr, "ctl_bench: %d clients made %lu logs reads of 1,000 lines in %.1f s (%.0f/s)\n",
           n, (unsigned long)atomic_load(&polls), s, atomic_load(&polls) / s);
   free(t);
   return 0;
}

int main(int argc, char** argv) {
   const char* dir = ".";
   int calls = 2000, pollers = 0;
   for (int i = 1; i < argc; i++) {
      if (!strcmp(argv[i], "-d") && i + 1 < argc)
         dir = argv[++i];
      else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
         calls = atoi(argv[++i]);
      else if (!strcmp(argv[i], "--poll") && i + 1 < argc)
         pollers = atoi(argv[++i]);
      else {
         fprintf(stderr, "usage: ctl_bench -d DIR [--calls N | --poll N]\n");
         return 2;
      }
   }
   if (calls < 1) calls = 1;
   char* cause = NULL;
   if (ctl_find(dir, &inst, &cause) < 0) {
      fprintf(stderr, "ctl_bench: %s\n", cause);
      return 2;
   }
   if (pollers > 0) return poll_mode(pollers);
   printf("| request | calls | reply | p50 | p99 | max |\n|---|---|---|---|---|---|\n");
   json_t* ps = json_pack("{s:s}", "op", "ps");
   round_trips("ps", ps, calls);
   json_t* logs = json_pack("{s:s,s:i}", "op", "logs", "limit", 1000);
   round_trips("logs, last 1,000 lines (All)", logs, calls / 4 ? calls / 4 : 1);
   json_decref(ps);
   json_decref(logs);
   ctl_instance_done(&inst);
   return 0;
}
