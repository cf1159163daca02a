/* .env files: KEY=VALUE lines as dotenv, foreman and docker compose read them. */
#include "scripts/project_impl.h"

#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct EnvParser {
   const char* text;
   size_t len, pos;
   size_t line, line_start; /* 1-based line, and the offset where it starts */
   const char* shown;
   StrVec* env;
   char* cause;
} EnvParser;

static bool fail(EnvParser* ps, size_t at, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(EnvParser* ps, size_t at, const char* fmt, ...) {
   va_list ap;
   va_start(ap, fmt);
   char buf[256];
   vsnprintf(buf, sizeof buf, fmt, ap);
   va_end(ap);
   /* Columns in bytes from the start of the line, as editors show them for ASCII. */
   ps->cause = xasprintf("%s:%zu:%zu: %s", ps->shown, ps->line, at - ps->line_start + 1, buf);
   return false;
}

static bool is_name_start(char c) {
   return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c) {
   return is_name_start(c) || (c >= '0' && c <= '9');
}

/* The value of name from the entries so far (the last one wins), else brum's environment. */
static const char* lookup(const StrVec* env, const char* name, size_t n) {
   for (size_t i = env->n; i-- > 0;) {
      const char* e = env->v[i];
      if (strncmp(e, name, n) != 0) continue;
      if (e[n] == '=') return e + n + 1;
      if (e[n] == '\0') return ""; /* unset by a later layer */
   }
   char* key = xstrndup(name, n);
   const char* v = getenv(key);
   free(key);
   return v ? v : "";
}

typedef struct Buf {
   char* s;
   size_t n, cap;
} Buf;

static void buf_add(Buf* b, const char* s, size_t n) {
   if (b->n + n + 1 > b->cap) {
      b->cap = (b->n + n + 1) * 2;
      b->s = xrealloc(b->s, b->cap);
   }
   memcpy(b->s + b->n, s, n);
   b->n += n;
   b->s[b->n] = '\0';
}

/* Expands `$VAR` or `${VAR}` at ps->pos (on the '$'). */
static bool expand_var(EnvParser* ps, Buf* out) {
   size_t at = ps->pos++;
   const char* t = ps->text;
   bool braced = ps->pos < ps->len && t[ps->pos] == '{';
   if (braced) ps->pos++;
   size_t start = ps->pos;
   while (ps->pos < ps->len && is_name_char(t[ps->pos])) ps->pos++;
   size_t n = ps->pos - start;
   if (braced) {
      if (ps->pos >= ps->len || t[ps->pos] != '}' || n == 0 || !is_name_start(t[start]))
         return fail(ps, at, "'${' must hold a variable name and end with '}' (like ${HOME})");
      ps->pos++;
   } else if (n == 0 || !is_name_start(t[start])) {
      buf_add(out, "$", 1); /* a lone '$' is itself */
      ps->pos = start;
      return true;
   }
   const char* v = lookup(ps->env, t + start, n);
   buf_add(out, v, strlen(v));
   return true;
}

/* A single-quoted value: literal up to the next quote (which may be lines further). */
static bool single_quoted(EnvParser* ps, Buf* out) {
   size_t at = ps->pos++;
   const char* end = memchr(ps->text + ps->pos, '\'', ps->len - ps->pos);
   if (!end) return fail(ps, at, "the single quote is never closed");
   buf_add(out, ps->text + ps->pos, (size_t)(end - (ps->text + ps->pos)));
   for (const char* c = ps->text + ps->pos; c < end; c++)
      if (*c == '\n') ps->line++, ps->line_start = (size_t)(c - ps->text) + 1;
   ps->pos = (size_t)(end - ps->text) + 1;
   return true;
}

/* A double-quoted value: \n \t \r \" \\ \$ escapes and expansion. */
static bool double_quoted(EnvParser* ps, Buf* out) {
   size_t at = ps->pos++;
   size_t line = ps->line, line_start = ps->line_start;
   const char* t = ps->text;
   while (ps->pos < ps->len && t[ps->pos] != '"') {
      char c = t[ps->pos];
      if (c == '\\' && ps->pos + 1 < ps->len) {
         char e = t[ps->pos + 1];
         const char* rep = e == 'n' ? "\n" : e == 't' ? "\t" : e == 'r' ? "\r" : NULL;
         if (rep)
            buf_add(out, rep, 1);
         else if (e == '"' || e == '\\' || e == '$')
            buf_add(out, &e, 1);
         else
            buf_add(out, t + ps->pos, 2); /* unknown escapes stay as written */
         ps->pos += 2;
      } else if (c == '$') {
         if (!expand_var(ps, out)) return false;
      } else {
         if (c == '\n') ps->line++, ps->line_start = ps->pos + 1;
         buf_add(out, &c, 1);
         ps->pos++;
      }
   }
   if (ps->pos >= ps->len) {
      /* Said where the quote opened, not where the file ended. */
      ps->line = line;
      ps->line_start = line_start;
      return fail(ps, at, "the double quote is never closed");
   }
   ps->pos++;
   return true;
}

/* An unquoted value: up to the end of the line or a `#` after whitespace, trimmed, expanded. */
static bool unquoted(EnvParser* ps, Buf* out) {
   const char* t = ps->text;
   while (ps->pos < ps->len && t[ps->pos] != '\n') {
      char c = t[ps->pos];
      if (c == '#' && ps->pos > 0 && (t[ps->pos - 1] == ' ' || t[ps->pos - 1] == '\t')) break;
      if (c == '$') {
         if (!expand_var(ps, out)) return false;
         continue;
      }
      buf_add(out, &c, 1);
      ps->pos++;
   }
   while (out->n && strchr(" \t\r", out->s[out->n - 1])) out->s[--out->n] = '\0';
   return true;
}

static void skip_blanks(EnvParser* ps) {
   while (ps->pos < ps->len && (ps->text[ps->pos] == ' ' || ps->text[ps->pos] == '\t')) ps->pos++;
}

/* After a quoted value: only blanks and a comment may follow on the line. */
static bool line_end(EnvParser* ps) {
   skip_blanks(ps);
   if (ps->pos < ps->len && ps->text[ps->pos] == '\r') ps->pos++;
   if (ps->pos >= ps->len || ps->text[ps->pos] == '\n' || ps->text[ps->pos] == '#') return true;
   return fail(ps, ps->pos, "unexpected text after the closing quote (quote the whole value)");
}

static bool parse_line(EnvParser* ps) {
   const char* t = ps->text;
   skip_blanks(ps);
   if (ps->pos >= ps->len || t[ps->pos] == '\n' || t[ps->pos] == '\r' || t[ps->pos] == '#')
      return true;
   if (strncmp(t + ps->pos, "export", 6) == 0 && ps->pos + 6 < ps->len &&
       (t[ps->pos + 6] == ' ' || t[ps->pos + 6] == '\t')) {
      ps->pos += 6;
      skip_blanks(ps);
   }
   size_t key_at = ps->pos;
   while (ps->pos < ps->len && (is_name_char(t[ps->pos]) || t[ps->pos] == '.')) ps->pos++;
   size_t klen = ps->pos - key_at;
   if (klen == 0 || !is_name_start(t[key_at]))
      return fail(ps, key_at,
                  "expected KEY=VALUE, where KEY is a variable name (letters, digits, "
                  "'_', not starting with a digit)");
   skip_blanks(ps);
   if (ps->pos >= ps->len || t[ps->pos] != '=') {
      char* key = xstrndup(t + key_at, klen);
      bool r = fail(ps, ps->pos, "'%s' needs '=' and a value (KEY=VALUE)", key);
      free(key);
      return r;
   }
   ps->pos++;
   skip_blanks(ps);
   Buf val = {0};
   buf_add(&val, "", 0);
   bool ok;
   if (ps->pos < ps->len && t[ps->pos] == '\'')
      ok = single_quoted(ps, &val) && line_end(ps);
   else if (ps->pos < ps->len && t[ps->pos] == '"')
      ok = double_quoted(ps, &val) && line_end(ps);
   else
      ok = unquoted(ps, &val);
   if (ok) pkg_sv_push(ps->env, xasprintf("%.*s=%s", (int)klen, t + key_at, val.s));
   free(val.s);
   return ok;
}

int envfile_parse(const char* text, size_t len, const char* shown, StrVec* env, char** cause) {
   EnvParser ps = {.text = text, .len = len, .line = 1, .shown = shown, .env = env};
   const char* nul = memchr(text, '\0', len);
   if (nul) {
      ps.len = (size_t)(nul - text); /* lines up to it parse; the NUL is the error */
   }
   while (ps.pos < ps.len) {
      if (!parse_line(&ps)) {
         *cause = ps.cause;
         return -EINVAL;
      }
      /* The rest of the line was consumed or is a comment. */
      while (ps.pos < ps.len && text[ps.pos] != '\n') ps.pos++;
      if (ps.pos < ps.len) {
         ps.pos++;
         ps.line++;
         ps.line_start = ps.pos;
      }
   }
   if (nul) {
      ps.pos = (size_t)(nul - text);
      fail(&ps, ps.pos, "the file contains a NUL byte (a .env file is text)");
      *cause = ps.cause;
      return -EINVAL;
   }
   return 0;
}

int envfile_load(const char* path, const char* shown, StrVec* env, char** cause) {
   char* text = NULL;
   size_t len = 0;
   char* why = NULL;
   int err = util_read_file(path, PRJ_MAX_FILE, &text, &len, &why);
   if (err < 0) {
      *cause = xasprintf("cannot read %s: %s", shown, why);
      free(why);
      return err;
   }
   err = envfile_parse(text, len, shown, env, cause);
   free(text);
   return err;
}
