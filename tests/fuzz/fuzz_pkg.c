/* libFuzzer target: the package.json loader (scripts/pkg). The input becomes the package.json of
 * a small sandbox project (made once per process: two workspace packages, one with a broken
 * package.json, a node_modules directory and a symlink loop), then pkg_load and
 * pkg_run_prepare for every script it found. Invariants: success gives a project whose fields
 * are set, failure gives a cause, and nothing leaks or crashes. Inputs whose strings could point
 * a workspace glob outside the sandbox ("..", absolute paths, "~") are skipped: they would walk
 * the real file system, which is slow and not what is being tested. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scripts/pkg.h"

static char root[256];

static void put(const char* rel, const char* text) {
   char path[512];
   snprintf(path, sizeof path, "%s/%s", root, rel);
   FILE* f = fopen(path, "wb");
   if (!f) abort();
   fputs(text, f);
   fclose(f);
}

static void mkd(const char* rel) {
   char path[512];
   snprintf(path, sizeof path, "%s/%s", root, rel);
   mkdir(path, 0755);
}

static void cleanup(void) {
   char cmd[300];
   snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
   if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
}

static void sandbox(void) {
   const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
   snprintf(root, sizeof root, "%s/brum-fuzz-pkg-XXXXXX", base);
   if (!mkdtemp(root)) abort();
   atexit(cleanup);
   mkd("packages");
   mkd("packages/a");
   mkd("packages/b");
   mkd("packages/c");
   mkd("node_modules");
   mkd("node_modules/dep");
   put("packages/a/package.json", "{\"name\":\"a\",\"version\":\"1.0.0\",\"scripts\":"
                                  "{\"dev\":\"echo a\",\"test\":\"exit 0\"}}");
   put("packages/b/package.json", "{\"scripts\":{\"build\":\"echo b\",\"bad\":1}}");
   put("packages/c/package.json", "{\"name\": broken");
   put("node_modules/dep/package.json", "{\"name\":\"dep\",\"scripts\":{\"x\":\"y\"}}");
   put("yarn.lock", "");
   char target[512], link[512];
   snprintf(target, sizeof target, "%s/packages", root);
   snprintf(link, sizeof link, "%s/packages/a/loop", root);
   if (symlink(target, link) != 0) abort();
}

/* Any string that could lead a glob out of the sandbox. */
static int escapes(json_t* v) {
   size_t i;
   const char* k;
   json_t* x;
   switch (json_typeof(v)) {
   case JSON_STRING: {
      const char* s = json_string_value(v);
      return s[0] == '/' || s[0] == '~' || strstr(s, "..") != NULL ||
             strlen(s) != json_string_length(v);
   }
   case JSON_ARRAY:
      json_array_foreach(v, i, x) if (escapes(x)) return 1;
      return 0;
   case JSON_OBJECT:
      json_object_foreach(v, k, x) if (escapes(x)) return 1;
      return 0;
   default:
      return 0;
   }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
   if (!root[0]) sandbox();
   json_t* j = json_loadb((const char*)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
   int skip = j && escapes(j);
   json_decref(j);
   if (skip) return 0;

   char path[512];
   snprintf(path, sizeof path, "%s/package.json", root);
   FILE* f = fopen(path, "wb");
   if (!f) abort();
   if (size && fwrite(data, 1, size, f) != size) abort();
   fclose(f);

   Project* p = NULL;
   char* cause = NULL;
   int err = pkg_load(root, &p, &cause);
   if (err < 0) {
      if (p || !cause) abort(); /* a failure says why */
   } else {
      if (!p || !p->dir || !p->name || !p->version || !p->pm_reason) abort();
      for (size_t i = 0; i < p->nscripts; i++) {
         const Script* s = &p->scripts[i];
         if (!s->name || !s->command || !s->package || !s->dir) abort();
         if (pkg_find(p, s->name) == NULL) abort();
         PkgRun r;
         if (pkg_run_prepare(p, s, i % 2 == 0, &r) == 0) {
            if (!r.argv || !r.argv[0] || !r.env || !r.cwd) abort();
            pkg_run_free(&r);
         }
      }
      for (size_t i = 0; i < p->nwarnings; i++)
         if (!p->warnings[i]) abort();
   }
   free(cause);
   pkg_free(p);
   return 0;
}
