/* Procfile.dev / Procfile: `name: command` lines, as Heroku, foreman and overmind read them. */
#include "scripts/project_impl.h"

#include "core/util.h"

#include <string.h>

/* foreman's ports: the first process gets 5000, the next 5100, and so on. */
#define PROCFILE_PORT_BASE 5000
#define PROCFILE_PORT_STEP 100

static bool name_char(char c) {
   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-';
}

void procfile_load(Project* p, const char* text, size_t len, const char* file, const StrVec* base,
                   ProcVec* out, StrVec* errs) {
   size_t line = 0, index = 0;
   for (size_t pos = 0; pos < len;) {
      const char* ln = text + pos;
      const char* nl = memchr(ln, '\n', len - pos);
      size_t n = nl ? (size_t)(nl - ln) : len - pos;
      pos += n + 1;
      line++;
      if (n && ln[n - 1] == '\r') n--;
      size_t i = 0;
      while (i < n && (ln[i] == ' ' || ln[i] == '\t')) i++;
      if (i == n || ln[i] == '#') continue;
      size_t name_at = i;
      while (i < n && name_char(ln[i])) i++;
      if (i == name_at || i == n || ln[i] != ':') {
         prj_msg(errs,
                 "%s:%zu:%zu: expected 'name: command' (a name of letters, digits, '_' and '-', "
                 "then a colon)",
                 file, line, i + 1);
         continue;
      }
      char* name = xstrndup(ln + name_at, i - name_at);
      size_t colon = i++;
      while (i < n && (ln[i] == ' ' || ln[i] == '\t')) i++;
      if (i == n || memchr(ln + i, '\0', n - i)) {
         prj_msg(errs, "%s:%zu:%zu: %s", file, line, colon + 1,
                 i == n ? "the process has no command after the colon"
                        : "the command contains a NUL byte");
         free(name);
         continue;
      }
      bool dup = false;
      for (size_t k = 0; k < out->n; k++)
         dup |= out->v[k].s.source == SRC_PROCFILE && strcmp(out->v[k].s.name, name) == 0;
      if (dup) {
         prj_msg(errs, "%s:%zu:%zu: process '%s' is defined twice", file, line, name_at + 1, name);
         free(name);
         continue;
      }
      Proc* pc = prj_proc_add(out);
      Script* s = &pc->s;
      s->name = name;
      s->command = xstrndup(ln + i, n - i);
      s->package = xstrdup(p->name);
      s->version = xstrdup("");
      s->dir = xstrdup(p->dir);
      s->source = SRC_PROCFILE;
      s->origin = xasprintf("%s:%zu", file, line);
      s->max_restarts = -1;
      /* foreman and overmind start every process of the file. */
      s->autostart = true;
      StrVec env = {0};
      prj_sv_copy(&env, base);
      pkg_sv_push(&env, xasprintf("PORT=%zu", PROCFILE_PORT_BASE + PROCFILE_PORT_STEP * index++));
      s->env = prj_sv_take(&env);
   }
}
