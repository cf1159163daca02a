/* Request arguments, patterns and run boundaries for the control server's operations. */
#include "core/ctl_args.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctl_int.h"
#include "core/util.h"

bool ctl_arg_str(json_t* req, json_t* id, const char* key, bool required, const char** out,
                 json_t** err) {
   json_t* v = json_object_get(req, key);
   if (!v || json_is_null(v)) {
      *out = NULL;
      if (!required) return true;
      *err = ctl_err(id, "bad_request", "missing argument \"%s\" (a string)", key);
      return false;
   }
   if (!json_is_string(v) || json_string_length(v) == 0) {
      *err = ctl_err(id, "bad_request", "argument \"%s\" must be a non-empty string", key);
      return false;
   }
   /* A NUL inside would cut the text short without anyone noticing. */
   if (strlen(json_string_value(v)) != json_string_length(v)) {
      *err = ctl_err(id, "bad_request", "argument \"%s\" must not contain NUL characters", key);
      return false;
   }
   *out = json_string_value(v);
   return true;
}

bool ctl_arg_int(json_t* req, json_t* id, const char* key, int64_t def, int64_t min, int64_t max,
                 int64_t* out, json_t** err) {
   json_t* v = json_object_get(req, key);
   if (!v || json_is_null(v)) {
      *out = def;
      return true;
   }
   if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
      *err = ctl_err(id, "bad_request", "argument \"%s\" must be an integer from %lld to %lld", key,
                     (long long)min, (long long)max);
      return false;
   }
   *out = json_integer_value(v);
   return true;
}

bool ctl_arg_secs(json_t* req, json_t* id, const char* key, double def, double max, double* out,
                  json_t** err) {
   json_t* v = json_object_get(req, key);
   if (!v || json_is_null(v)) {
      *out = def;
      return true;
   }
   double d = json_is_number(v) ? json_number_value(v) : -1;
   if (!json_is_number(v) || !isfinite(d) || d < 0 || d > max) {
      *err = ctl_err(id, "bad_request", "argument \"%s\" must be a number of seconds from 0 to %g",
                     key, max);
      return false;
   }
   *out = d;
   return true;
}

bool ctl_arg_bool(json_t* req, json_t* id, const char* key, bool def, bool* out, json_t** err) {
   json_t* v = json_object_get(req, key);
   if (!v || json_is_null(v)) {
      *out = def;
      return true;
   }
   if (!json_is_boolean(v)) {
      *err = ctl_err(id, "bad_request", "argument \"%s\" must be true or false", key);
      return false;
   }
   *out = json_is_true(v);
   return true;
}

/* The pattern with every ASCII character that means something to PCRE2 escaped: a backslash
 * before a non-alphanumeric character always stands for that character. */
static char* escape_literal(const char* s) {
   char* out = xmalloc(strlen(s) * 2 + 1);
   size_t o = 0;
   for (; *s; s++) {
      unsigned char ch = (unsigned char)*s;
      if (ch < 0x80 && !isalnum(ch) && ch != ' ') out[o++] = '\\';
      out[o++] = (char)ch;
   }
   out[o] = '\0';
   return out;
}

Regex* ctl_regex(json_t* id, const char* pattern, bool literal, int icase, json_t** err) {
   /* An inline option at the front overrides the smart case regex_compile picks. */
   const char* prefix = icase > 0 ? "(?i)" : icase == 0 ? "(?-i)" : "";
   char* body = literal ? escape_literal(pattern) : xstrdup(pattern);
   char* full = xasprintf("%s%s", prefix, body);
   free(body);
   Regex* re = NULL;
   char* cause = NULL;
   int rc = regex_compile(full, &re, &cause);
   free(full);
   if (rc == 0) return re;
   size_t off = 0;
   int n = 0;
   if (cause && sscanf(cause, "invalid regex at offset %zu: %n", &off, &n) == 1 && n > 0) {
      size_t plen = strlen(prefix);
      *err = ctl_err(id, "bad_regex", "invalid regex at offset %zu: %s (pattern \"%s\")",
                     off > plen ? off - plen : 0, cause + n, pattern);
   } else {
      *err =
          ctl_err(id, "bad_regex", "%s (pattern \"%s\")", cause ? cause : "invalid regex", pattern);
   }
   free(cause);
   return NULL;
}

bool ctl_proc_over(const ProcSnap* s) {
   bool ended = s->state == PROC_IDLE || s->state == PROC_EXITED || s->state == PROC_FAILED ||
                s->state == PROC_KILLED || s->state == PROC_STOPPED;
   return ended && !s->output_open;
}

void ctl_call_cancelled(CtlCall* call, bool disconnected) {
   if (!disconnected)
      ctl_send_msg(call->conn, ctl_err(call->id, "cancelled", "cancelled by the client"));
}

/* The latest starts sent (a ring: an old entry either began long ago or never will). */
typedef struct SentStart {
   const CtlServer* srv; /* borrowed, only compared */
   uint64_t id, started_ms;
   uint32_t restarts;
} SentStart;
/* Per thread: each server runs its operations on a thread of its own, and a server in another
 * thread (tests run several) must not touch this one's. */
static _Thread_local SentStart sent_starts[64];
static _Thread_local size_t sent_next;

void ctl_note_start(const CtlServer* srv, const ProcSnap* before) {
   sent_starts[sent_next++ % ARRAY_LEN(sent_starts)] =
       (SentStart){srv, before->id, before->started_ms, before->restarts};
}

bool ctl_start_pending(const CtlServer* srv, const ProcSnap* now) {
   for (size_t i = 0; i < ARRAY_LEN(sent_starts); i++) {
      const SentStart* e = &sent_starts[i];
      if (e->srv == srv && e->id == now->id && e->started_ms == now->started_ms &&
          e->restarts == now->restarts)
         return true;
   }
   return false;
}
