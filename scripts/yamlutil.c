/* Reading YAML project files (brum.yaml, process-compose.yaml) through libyaml's document API:
 * errors with the file's line and column, merge keys, a bound on alias expansion, typed values. */
#include "scripts/project_impl.h"

#include "core/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <jansson.h>
#include <pcre2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* How deep `<<` merges may nest (a merged mapping that merges another...). */
#define YDOC_MAX_MERGE_DEPTH 8

void prj_msg(StrVec* sv, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   int n = vsnprintf(NULL, 0, fmt, ap);
   va_end(ap);
   if (n < 0) return;
   char* s = xmalloc((size_t)n + 1);
   va_start(ap, fmt);
   vsnprintf(s, (size_t)n + 1, fmt, ap);
   va_end(ap);
   pkg_sv_push(sv, s);
}

char** prj_sv_take(StrVec* sv) {
   if (!sv->n) {
      free(sv->v);
      *sv = (StrVec){0};
      return NULL;
   }
   char** out = xrealloc(sv->v, (sv->n + 1) * sizeof *out);
   out[sv->n] = NULL;
   *sv = (StrVec){0};
   return out;
}

void prj_sv_done(StrVec* sv) {
   for (size_t i = 0; i < sv->n; i++) free(sv->v[i]);
   free(sv->v);
   *sv = (StrVec){0};
}

void prj_sv_copy(StrVec* dst, const StrVec* src) {
   for (size_t i = 0; i < src->n; i++) pkg_sv_push(dst, xstrdup(src->v[i]));
}

bool ydoc_parse(YDoc* d, const char* text, size_t len) {
   yaml_parser_t parser;
   if (!yaml_parser_initialize(&parser)) util_die_oom();
   yaml_parser_set_input_string(&parser, (const unsigned char*)text, len);
   bool ok = yaml_parser_load(&parser, &d->doc);
   if (!ok) {
      yaml_mark_t m = parser.problem_mark;
      prj_msg(d->errs, "%s:%zu:%zu: %s%s%s", d->file, m.line + 1, m.column + 1,
              parser.problem ? parser.problem : "YAML syntax error", parser.context ? " " : "",
              parser.context ? parser.context : "");
   }
   yaml_parser_delete(&parser);
   return ok;
}

void ydoc_done(YDoc* d) {
   yaml_document_delete(&d->doc);
}

void ydoc_err(YDoc* d, const yaml_node_t* n, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   int len = vsnprintf(NULL, 0, fmt, ap);
   va_end(ap);
   if (len < 0) return;
   char* msg = xmalloc((size_t)len + 1);
   va_start(ap, fmt);
   vsnprintf(msg, (size_t)len + 1, fmt, ap);
   va_end(ap);
   prj_msg(d->errs, "%s:%zu:%zu: %s", d->file, n ? n->start_mark.line + 1 : 1,
           n ? n->start_mark.column + 1 : 1, msg);
   free(msg);
}

yaml_node_t* ydoc_node(YDoc* d, int id) {
   return yaml_document_get_node(&d->doc, id);
}

bool ydoc_count(YDoc* d, yaml_node_t* n, size_t items) {
   d->visits += items;
   if (d->visits <= PRJ_MAX_NODES) return true;
   if (!d->capped)
      ydoc_err(d, n,
               "more than %d entries once aliases and merge keys are expanded: the file is "
               "refused (write the entries out, or share less through aliases)",
               PRJ_MAX_NODES);
   d->capped = true;
   return false;
}

bool ydoc_is_null(const yaml_node_t* n) {
   if (!n) return true;
   if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
   const char* s = (const char*)n->data.scalar.value;
   return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
          strcmp(s, "NULL") == 0;
}

const char* ydoc_kind(const yaml_node_t* n) {
   if (ydoc_is_null(n)) return "nothing (null)";
   switch (n->type) {
   case YAML_MAPPING_NODE:
      return "a mapping";
   case YAML_SEQUENCE_NODE:
      return "a list";
   default:
      return "a string";
   }
}

const char* ydoc_scalar(const yaml_node_t* n) {
   return n && n->type == YAML_SCALAR_NODE ? (const char*)n->data.scalar.value : NULL;
}

typedef struct PairVec {
   YPair* v;
   size_t n, cap;
   json_t* keys; /* the keys so far, hashed: a mapping may be large */
} PairVec;

/* Adds map's pairs that are not there yet, then its merges. explicit: the file's own mapping
 * (not a merged one), where a repeated key is an error. */
static bool collect(YDoc* d, yaml_node_t* map, PairVec* pv, int depth, bool explicit) {
   if (depth > YDOC_MAX_MERGE_DEPTH) {
      ydoc_err(d, map, "'<<' merges nest more than %d levels deep", YDOC_MAX_MERGE_DEPTH);
      return false;
   }
   yaml_node_pair_t* start = map->data.mapping.pairs.start;
   yaml_node_pair_t* top = map->data.mapping.pairs.top;
   if (!ydoc_count(d, map, (size_t)(top - start))) return false;
   for (int pass = 0; pass < 2; pass++) {
      for (yaml_node_pair_t* pr = start; pr < top; pr++) {
         yaml_node_t* k = ydoc_node(d, pr->key);
         yaml_node_t* v = ydoc_node(d, pr->value);
         if (!k || !v) continue;
         if (k->type != YAML_SCALAR_NODE) {
            ydoc_err(d, k, "a key must be a string, not %s", ydoc_kind(k));
            return false;
         }
         bool merge = strcmp((char*)k->data.scalar.value, "<<") == 0 &&
                      k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
         if (merge != (pass == 1)) continue;
         if (merge) {
            if (v->type == YAML_MAPPING_NODE) {
               if (!collect(d, v, pv, depth + 1, false)) return false;
               continue;
            }
            if (v->type != YAML_SEQUENCE_NODE) {
               ydoc_err(d, v, "'<<' merges a mapping or a list of mappings, not %s", ydoc_kind(v));
               return false;
            }
            if (!ydoc_count(d, v,
                            (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)))
               return false;
            for (yaml_node_item_t* it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
               yaml_node_t* m = ydoc_node(d, *it);
               if (!m || m->type != YAML_MAPPING_NODE) {
                  ydoc_err(d, m ? m : v, "'<<' merges mappings only, not %s", ydoc_kind(m));
                  return false;
               }
               if (!collect(d, m, pv, depth + 1, false)) return false;
            }
            continue;
         }
         const char* key = (const char*)k->data.scalar.value;
         size_t klen = k->data.scalar.length;
         if (json_object_getn(pv->keys, key, klen)) {
            if (explicit) {
               ydoc_err(d, k, "key '%s' is given twice in this mapping", key);
               return false;
            }
            continue;
         }
         if (json_object_setn_new_nocheck(pv->keys, key, klen, json_true()) < 0) util_die_oom();
         if (pv->n == pv->cap) {
            pv->cap = pv->cap ? pv->cap * 2 : 8;
            pv->v = xrealloc(pv->v, pv->cap * sizeof *pv->v);
         }
         pv->v[pv->n++] = (YPair){k, v};
      }
   }
   return true;
}

YPair* ydoc_pairs(YDoc* d, yaml_node_t* map, size_t* n) {
   PairVec pv = {.keys = json_object()};
   if (!pv.keys) util_die_oom();
   bool ok = collect(d, map, &pv, 0, true);
   json_decref(pv.keys);
   if (!ok) {
      free(pv.v);
      *n = 0;
      return NULL;
   }
   *n = pv.n;
   return pv.v ? pv.v : xcalloc(1, sizeof *pv.v);
}

bool ydoc_str(YDoc* d, yaml_node_t* n, const char* what, char** out) {
   if (!n || n->type != YAML_SCALAR_NODE || ydoc_is_null(n)) {
      ydoc_err(d, n, "%s must be a string, not %s", what, ydoc_kind(n));
      return false;
   }
   if (strlen((char*)n->data.scalar.value) != n->data.scalar.length) {
      ydoc_err(d, n, "%s contains a NUL character", what);
      return false;
   }
   free(*out);
   *out = xstrdup((char*)n->data.scalar.value);
   return true;
}

bool ydoc_bool(YDoc* d, yaml_node_t* n, const char* what, bool* out) {
   const char* s = ydoc_scalar(n);
   /* Only true and false: YAML 1.1's yes/no/on/off surprise people (the Norway problem). */
   if (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
       (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
      *out = s[0] == 't';
      return true;
   }
   if (s && !ydoc_is_null(n))
      ydoc_err(d, n, "%s must be true or false, not '%s'", what, s);
   else
      ydoc_err(d, n, "%s must be true or false, not %s", what, ydoc_kind(n));
   return false;
}

bool ydoc_uint(YDoc* d, yaml_node_t* n, const char* what, unsigned long max, unsigned long* out) {
   const char* s = ydoc_scalar(n);
   if (s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 12) {
      unsigned long v = strtoul(s, NULL, 10);
      if (v <= max) {
         *out = v;
         return true;
      }
   }
   ydoc_err(d, n, "%s must be a whole number from 0 to %lu, not %s%s%s", what, max,
            s && !ydoc_is_null(n) ? "'" : "", s && !ydoc_is_null(n) ? s : ydoc_kind(n),
            s && !ydoc_is_null(n) ? "'" : "");
   return false;
}

/* "1.5", "500ms", "2s", "1m", "1h": seconds, parsed by hand (locale-free, no hex or exponents). */
static bool parse_duration(const char* s, double* out) {
   double v = 0, scale = 1;
   bool digits = false, dot = false;
   const char* p = s;
   for (; *p; p++) {
      if (*p == '.' && !dot) {
         dot = true;
      } else if (*p >= '0' && *p <= '9') {
         digits = true;
         if (dot)
            v += (scale /= 10) * (*p - '0');
         else
            v = v * 10 + (*p - '0');
         if (v > 1e9) return false;
      } else {
         break;
      }
   }
   if (!digits) return false;
   double unit = !*p                    ? 1
                 : strcmp(p, "ms") == 0 ? 0.001
                 : strcmp(p, "s") == 0  ? 1
                 : strcmp(p, "m") == 0  ? 60
                 : strcmp(p, "h") == 0  ? 3600
                                        : -1;
   if (unit < 0) return false;
   *out = v * unit;
   return *out <= 86400;
}

bool ydoc_duration(YDoc* d, yaml_node_t* n, const char* what, double* out) {
   const char* s = ydoc_scalar(n);
   if (s && !ydoc_is_null(n) && parse_duration(s, out)) return true;
   ydoc_err(d, n,
            "%s must be a duration: seconds (2, 0.5) or a number with a unit (500ms, 2s, 1m, "
            "1h), at most a day, not %s%s%s",
            what, s && !ydoc_is_null(n) ? "'" : "", s && !ydoc_is_null(n) ? s : ydoc_kind(n),
            s && !ydoc_is_null(n) ? "'" : "");
   return false;
}

bool ydoc_signal(YDoc* d, yaml_node_t* n, const char* what, int* out) {
   const char* s = ydoc_scalar(n);
   if (s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 4) {
      int v = atoi(s);
      if (v >= 1 && v < NSIG) {
         *out = v;
         return true;
      }
   } else if (s && *s) {
      const char* name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
      for (int i = 1; i < NSIG; i++) {
         const char* abbrev = sigabbrev_np(i);
         if (abbrev && strcasecmp(abbrev, name) == 0) {
            *out = i;
            return true;
         }
      }
   }
   ydoc_err(d, n, "%s must be a signal name (TERM, SIGINT, HUP...) or number (1 to %d), not %s%s%s",
            what, NSIG - 1, s && !ydoc_is_null(n) ? "'" : "",
            s && !ydoc_is_null(n) ? s : ydoc_kind(n), s && !ydoc_is_null(n) ? "'" : "");
   return false;
}

static char* check_tcp(const char* t) {
   const char* colon = strrchr(t, ':');
   if (!colon || colon == t)
      return xasprintf("a tcp probe is host:port (like 127.0.0.1:5432), not '%s'", t);
   const char* port = colon + 1;
   if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 || atoi(port) < 1 ||
       atoi(port) > 65535)
      return xasprintf("the port of tcp probe '%s' must be a number from 1 to 65535", t);
   return NULL;
}

char* prj_probe_check(ProbeKind kind, const char* target) {
   if (kind == PROBE_TCP) return check_tcp(target);
   if (kind == PROBE_HTTP) {
      if (strncasecmp(target, "https://", 8) == 0)
         return xasprintf("'%s': https probes are not supported (brum speaks plain HTTP, without "
                          "TLS): probe an http:// address, or use tcp: host:port",
                          target);
      if (strncasecmp(target, "http://", 7) != 0 || !target[7] || target[7] == '/')
         return xasprintf("an http probe is a URL like http://127.0.0.1:8080/health, not '%s'",
                          target);
      return NULL;
   }
   if (kind == PROBE_LOG) {
      int code;
      PCRE2_SIZE off;
      pcre2_code* re = pcre2_compile((PCRE2_SPTR)target, PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
      if (re) {
         pcre2_code_free(re);
         return NULL;
      }
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(code, msg, sizeof msg);
      return xasprintf("log pattern '%s' is not a valid regular expression: %s (at offset %zu)",
                       target, (char*)msg, (size_t)off);
   }
   if (!*target) return xasprintf("an exec probe needs a command");
   return NULL;
}
