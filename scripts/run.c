/* Running a script: directly, with the hooks, environment and banner its package manager would
 * give it (npm 7+'s @npmcli/run-script and @npmcli/config), or through the manager where direct
 * execution would be wrong. pkg.h says which is which. */
#include "scripts/pkg.h"
#include "scripts/pkg_impl.h"
#include "scripts/runctx.h"

#include "core/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char** environ;

/* The package a script came from; NULL for a Script made by hand (its index does not name a
 * package of its directory). */
static const Package* package_of(const Project* p, const Script* s) {
   if (s->pkg >= p->npackages || strcmp(p->packages[s->pkg].dir, s->dir) != 0) return NULL;
   return &p->packages[s->pkg];
}

/* The name of a script inside its own package.json: "dev" for "web:dev". */
static const char* bare_name(const Script* s) {
   size_t n = strlen(s->package);
   if (s->in_workspace && strncmp(s->name, s->package, n) == 0 && s->name[n] == ':')
      return s->name + n + 1;
   return s->name;
}

static const char* env_get(const StrVec* env, const char* key) {
   size_t n = strlen(key);
   for (size_t i = 0; i < env->n; i++)
      if (strncmp(env->v[i], key, n) == 0 && env->v[i][n] == '=') return env->v[i] + n + 1;
   return NULL;
}

/* Replaces or adds "key=value" (an entry of that name, whole, taken as given). */
static void env_put(StrVec* env, char* kv) {
   size_t n = strcspn(kv, "=");
   for (size_t i = 0; i < env->n; i++) {
      if (strncmp(env->v[i], kv, n) == 0 && env->v[i][n] == '=') {
         free(env->v[i]);
         env->v[i] = kv;
         return;
      }
   }
   pkg_sv_push(env, kv);
}

static void env_set(StrVec* env, const char* key, const char* value) {
   env_put(env, xasprintf("%s=%s", key, value));
}

static const char* major_ok(const char* v) {
   return v && *v >= '0' && *v <= '9' ? v : NULL;
}

/* process.platform and process.arch, as node names them, from uname. */
static void platform_arch(char platform[64], size_t pn, char arch[64], size_t an) {
   struct utsname u;
   if (uname(&u) < 0) {
      snprintf(platform, pn, "linux");
      snprintf(arch, an, "x64");
      return;
   }
   snprintf(platform, pn, "%.63s", u.sysname);
   for (char* c = platform; *c; c++)
      if (*c >= 'A' && *c <= 'Z') *c += 32;
   const char* m = u.machine;
   const char* a = strcmp(m, "x86_64") == 0                               ? "x64"
                   : strcmp(m, "aarch64") == 0 || strcmp(m, "arm64") == 0 ? "arm64"
                   : strncmp(m, "arm", 3) == 0                            ? "arm"
                   : m[0] == 'i' && strcmp(m + 2, "86") == 0              ? "ia32"
                   : strcmp(m, "ppc64le") == 0                            ? "ppc64"
                                                                          : m;
   snprintf(arch, an, "%.63s", a);
}

/* npm's {ci} for GitHub Actions, the one CI it is commonly tested on (ci-info knows dozens more;
 * on those the user agent lacks the ci/ part). npm 11 adds where the runner is hosted. */
static char* ci_part(const PkgRunCtx* c) {
   const char* gha = getenv("GITHUB_ACTIONS");
   if (!gha || !*gha) return xstrdup("");
   if (!(c->version && atoi(c->version) >= 11)) return xstrdup("ci/github-actions");
   const char* url = getenv("GITHUB_SERVER_URL");
   const char* runner = getenv("RUNNER_ENVIRONMENT");
   const char* host = url ? strstr(url, "://") : NULL;
   char* h = host ? xstrndup(host + 3, strcspn(host + 3, "/:?#")) : xstrdup("");
   for (char* ch = h; *ch; ch++)
      if (*ch >= 'A' && *ch <= 'Z') *ch = (char)(*ch + 32);
   size_t n = strlen(h);
   const char* sub = "";
   if (strcmp(h, "github.com") == 0)
      sub = runner && strcmp(runner, "github-hosted") == 0 ? "/dotcom-hosted"
            : runner && strcmp(runner, "self-hosted") == 0 ? "/dotcom-selfhosted"
                                                           : "/dotcom";
   else if (strcmp(h, "ghe.com") == 0 || (n > 8 && strcmp(h + n - 8, ".ghe.com") == 0))
      sub = "/ghecom";
   else if (n)
      sub = "/ghes";
   free(h);
   return xasprintf("ci/github-actions%s", sub);
}

/* Replaces every {name} (any case) of tmpl; vals: name, value pairs. */
static char* fill_template(const char* tmpl, const char* const* vals, size_t n) {
   StrVec parts = {0};
   size_t total = 0;
   for (const char* s = tmpl; *s;) {
      const char* rep = NULL;
      size_t skip = 1;
      for (size_t i = 0; *s == '{' && i < n; i += 2) {
         size_t k = strlen(vals[i]);
         if (strncasecmp(s + 1, vals[i], k) == 0 && s[k + 1] == '}')
            rep = vals[i + 1], skip = k + 2;
      }
      char* piece = rep ? xstrdup(rep) : xstrndup(s, 1);
      total += strlen(piece);
      pkg_sv_push(&parts, piece);
      s += skip;
   }
   char* out = xmalloc(total + 1);
   size_t o = 0;
   for (size_t i = 0; i < parts.n; i++) {
      size_t k = strlen(parts.v[i]);
      memcpy(out + o, parts.v[i], k);
      o += k;
      free(parts.v[i]);
   }
   free(parts.v);
   while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t')) o--;
   out[o] = '\0';
   char* start = out + strspn(out, " \t");
   memmove(out, start, strlen(start) + 1);
   return out;
}

/* npm_config_user_agent: the manager's own, never brum's (`npx only-allow pnpm` reads it). */
static char* user_agent(const Project* p, const PkgRunCtx* c, bool in_workspaces) {
   char platform[64], arch[64];
   platform_arch(platform, sizeof platform, arch, sizeof arch);
   const char* version = c->version ? c->version : "unknown";
   const char* node = c->node_version ? c->node_version : "unknown";
   if (p->pm != PM_NPM)
      return xasprintf("%s/%s npm/? node/%s %s %s", pkg_manager_name(p->pm), version, node,
                       platform, arch);
   const char* tmpl = ctx_setting(c, "user-agent");
   if (!tmpl)
      tmpl = "npm/{npm-version} node/{node-version} {platform} {arch} workspaces/{workspaces} {ci}";
   char* ci = ci_part(c);
   const char* const vals[] = {
       "node-version", node,   "npm-version", version,      "platform",
       platform,       "arch", arch,          "workspaces", in_workspaces ? "true" : "false",
       "ci",           ci};
   char* ua = fill_template(tmpl, vals, ARRAY_LEN(vals));
   free(ci);
   return ua;
}

static bool key_in(const char* key, const char* const* list, size_t n) {
   for (size_t i = 0; i < n; i++)
      if (strcmp(key, list[i]) == 0) return true;
   return false;
}

static char* env_key(const char* key) {
   char* k = xasprintf("npm_config_%s", key);
   for (char* c = k; *c; c++) {
      if (*c == '-') *c = '_';
      if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
   }
   return k;
}

/* npm_config_* as npm's set-envs.js exports them: every setting of an .npmrc file (a variable
 * that set one is already in the environment, as npm leaves it), then what npm computes. */
static void config_env(StrVec* env, const Project* p, const PkgRunCtx* c, const Script* s) {
   /* envExport: false in npm's definitions; "_auth" and the like, "@scope:registry" and
    * "//host/:_authToken" are never exported. */
   static const char* const hidden[] = {"workspace",       "workspaces",
                                        "if-present",      "include-workspace-root",
                                        "min-release-age", "min-release-age-exclude"};
   const char* k;
   json_t* v;
   json_object_foreach(c->from_files, k, v) {
      if (strchr("/@_", k[0]) || key_in(k, hidden, ARRAY_LEN(hidden))) continue;
      char* key = env_key(k);
      env_set(env, key, json_string_value(v));
      free(key);
   }
   char* ua = user_agent(p, c, s->in_workspace || ctx_true(c, "workspaces"));
   env_set(env, "npm_config_user_agent", ua);
   free(ua);
   if (p->pm != PM_NPM) return;
   const char* home = getenv("HOME");
   char* cache = home ? pkg_join_path(home, ".npm") : xstrdup(".npm");
   char* init = home ? pkg_join_path(home, ".npm-init.js") : xstrdup(".npm-init.js");
   char* gyp =
       c->npm_root ? pkg_join_path(c->npm_root, "node_modules/node-gyp/bin/node-gyp.js") : NULL;
   const char* s_cache = ctx_setting(c, "cache");
   const char* s_init = ctx_setting(c, "init-module");
   const char* s_gyp = ctx_setting(c, "node-gyp");
   const char* s_noproxy = ctx_setting(c, "noproxy");
   env_set(env, "npm_config_cache", s_cache ? s_cache : cache);
   env_set(env, "npm_config_globalconfig", c->globalconfig);
   env_set(env, "npm_config_global_prefix", c->prefix);
   env_set(env, "npm_config_prefix", c->prefix);
   env_set(env, "npm_config_init_module", s_init ? s_init : init);
   env_set(env, "npm_config_userconfig", c->userconfig);
   env_set(env, "npm_config_local_prefix", p->dir);
   env_set(env, "npm_config_noproxy", s_noproxy ? s_noproxy : "");
   /* npm 11's allow-scripts: an array setting whose default npm exports as "". */
   if (major_ok(c->version) && atoi(c->version) >= 11) {
      const char* s_allow = ctx_setting(c, "allow-scripts");
      env_set(env, "npm_config_allow_scripts", s_allow ? s_allow : "");
   }
   env_set(env, "npm_config_npm_version", c->version ? c->version : "unknown");
   if (s_gyp || gyp) env_set(env, "npm_config_node_gyp", s_gyp ? s_gyp : gyp);
   free(gyp);
   free(init);
   free(cache);
}

/* npm's COLOR: its color setting (default: on unless NO_COLOR is set to other than "0") on a
 * terminal, which a script under brum has. */
static const char* color_env(const PkgRunCtx* c) {
   const char* set = ctx_setting(c, "color");
   if (set) return *set ? "1" : "0"; /* "always", "true": on; false: "" */
   const char* nc = getenv("NO_COLOR");
   return nc && *nc && strcmp(nc, "0") != 0 ? "0" : "1";
}

/* set-path.js: node_modules/.bin of the package directory and of every ancestor up to /, npm's
 * node-gyp-bin, then the PATH brum was given. */
static void path_env(StrVec* env, const PkgRunCtx* c, const Script* s) {
   const char* old = env_get(env, "PATH");
   if (!old) old = "/usr/local/bin:/usr/bin:/bin";
   size_t cap = strlen(old) + 256, n = 0;
   char* path = xmalloc(cap);
   char* dir = xstrdup(s->dir);
   for (;;) {
      char* bin = pkg_join_path(dir, "node_modules/.bin");
      size_t k = strlen(bin);
      if (n + k + 2 > cap) cap = (n + k + 2) * 2, path = xrealloc(path, cap);
      memcpy(path + n, bin, k);
      n += k;
      path[n++] = ':';
      free(bin);
      char* slash = strrchr(dir, '/');
      if (!slash || strcmp(dir, "/") == 0) break;
      if (slash == dir)
         dir[1] = '\0';
      else
         *slash = '\0';
   }
   free(dir);
   path[n] = '\0';
   char* gyp = NULL;
   struct stat st;
   if (c->npm_root) {
      gyp = pkg_join_path(c->npm_root, "node_modules/@npmcli/run-script/lib/node-gyp-bin");
      if (stat(gyp, &st) < 0 || !S_ISDIR(st.st_mode)) {
         free(gyp);
         gyp = NULL;
      }
   }
   char* full = xasprintf("%s%s%s%s", path, gyp ? gyp : "", gyp ? ":" : "", old);
   env_set(env, "PATH", full);
   free(full);
   free(gyp);
   free(path);
}

/* The environment of a package's scripts, without the lifecycle variables: made once per package
 * (with 100,000 scripts, each copies it instead). */
static char** package_env(const Project* p, PkgRunCtx* c, const Script* s, bool* owned) {
   const Package* pk = package_of(p, s);
   *owned = !pk || s->pkg >= c->npackages;
   if (!*owned && c->envs[s->pkg]) return c->envs[s->pkg];
   StrVec env = {0};
   for (char** e = environ; e && *e; e++) pkg_sv_push(&env, xstrdup(*e));
   /* Children run in a PTY, but some tools only colour when told to. */
   if (!env_get(&env, "FORCE_COLOR") && !env_get(&env, "NO_COLOR"))
      env_set(&env, "FORCE_COLOR", "1");
   config_env(&env, p, c, s);
   env_set(&env, "INIT_CWD", c->cwd);
   const char* node_options = ctx_setting(c, "node-options");
   if (node_options && *node_options) env_set(&env, "NODE_OPTIONS", node_options);
   if (c->exe) env_set(&env, "npm_execpath", c->exe);
   if (c->node) env_set(&env, "npm_node_execpath", c->node);
   if (p->pm == PM_NPM) {
      const char* editor = ctx_setting(c, "editor");
      if (!editor) editor = getenv("EDITOR");
      if (!editor) editor = getenv("VISUAL");
      env_set(&env, "EDITOR", editor ? editor : "vi");
      if (c->node) env_set(&env, "NODE", c->node);
      env_set(&env, "npm_command", "run");
      env_set(&env, "COLOR", color_env(c));
   }
   for (char** e = pk ? pk->env : NULL; e && *e; e++) env_put(&env, xstrdup(*e));
   if (!pk) { /* a Script made by hand, without a package: what the Script says */
      env_set(&env, "npm_package_name", s->package);
      env_set(&env, "npm_package_version", s->version ? s->version : "");
   }
   /* pnpm (@pnpm/lifecycle 9.1+) tells a script where its package.json is this way too */
   if (p->pm == PM_PNPM) env_set(&env, "PNPM_SCRIPT_SRC_DIR", s->dir);
   char* pj = pkg_join_path(s->dir, "package.json");
   env_set(&env, "npm_package_json", pj);
   free(pj);
   path_env(&env, c, s);
   pkg_sv_push(&env, NULL);
   if (!*owned) c->envs[s->pkg] = env.v;
   return env.v;
}

/* Single quotes for sh: every byte literal, a ' as '\''. */
static void sh_quote(StrVec* out, const char* s) {
   size_t n = 2;
   for (const char* c = s; *c; c++) n += *c == '\'' ? 4 : 1;
   char* q = xmalloc(n + 1);
   char* o = q;
   *o++ = '\'';
   for (const char* c = s; *c; c++) {
      if (*c == '\'') {
         memcpy(o, "'\\''", 4);
         o += 4;
      } else {
         *o++ = *c;
      }
   }
   *o++ = '\'';
   *o = '\0';
   pkg_sv_push(out, q);
}

/* npm's banner without its blank lines: "> pkg@1.2.3 dev" (or "> dev" without a name and a
 * version), then the trimmed script text, each of its lines after "> ". pnpm adds the directory;
 * yarn 1 prints "$ text". */
static char* banner(const Project* p, const Script* s, const char* event, const char* text) {
   const Package* pk = package_of(p, s);
   size_t b = 0, e = strlen(text);
   while (b < e && strchr(" \t\r\n\v\f", text[b])) b++;
   while (e > b && strchr(" \t\r\n\v\f", text[e - 1])) e--;
   size_t lines = 1;
   for (size_t i = b; i < e; i++) lines += text[i] == '\n';
   char* body = xmalloc(e - b + lines * 2 + 1);
   size_t o = 0;
   for (size_t i = b; i < e; i++) {
      body[o++] = text[i];
      if (text[i] == '\n') body[o++] = '>', body[o++] = ' ';
   }
   body[o] = '\0';
   char* out;
   if (p->pm == PM_YARN)
      out = xasprintf("$ %s", body);
   else if (p->pm == PM_PNPM)
      out = xasprintf("> %s%s%s %s\n> %s", pk && pk->id ? pk->id : "", pk && pk->id ? " " : "",
                      event, s->dir, body);
   else
      out = xasprintf("> %s%s%s\n> %s", pk && pk->id ? pk->id : "", pk && pk->id ? " " : "", event,
                      body);
   free(body);
   return out;
}

/* Does the manager run pre<name> and post<name> around a script? */
static bool hooks_on(const Project* p, const PkgRunCtx* c) {
   if (p->pm == PM_PNPM) {
      /* off since pnpm 7 unless enable-pre-post-scripts (.npmrc or pnpm-workspace.yaml) */
      if (major_ok(c->version) && atoi(c->version) < 7) return true;
      return ctx_true(c, "enable-pre-post-scripts") || p->pnpm_pre_post == 1;
   }
   return !ctx_true(c, "ignore-scripts");
}

static const char* script_shell(const Project* p, const PkgRunCtx* c) {
   if (p->pm == PM_PNPM && p->pnpm_shell) return p->pnpm_shell;
   const char* sh = ctx_setting(c, "script-shell");
   return sh && *sh ? sh : "sh";
}

/* One stage (number i) of the hooks program: banner, its lifecycle variables, its shell; the last
 * one is exec'd (the program's process becomes it), the others stop the program when they fail.
 * The texts travel in the program's environment (BRUM_HOOK_TEXT_i, BRUM_HOOK_BANNER_i), which the
 * program moves into shell variables and unsets before any stage (head): in its one argument they
 * would limit a script to half of what the kernel takes for one string (128 KiB), as npm is not
 * limited. */
static void add_stage(StrVec* head, StrVec* prog, StrVec* env, const Project* p, const Script* s,
                      const char* shell, int i, const char* event, const char* text, bool last,
                      bool show) {
   char* tk = xasprintf("BRUM_HOOK_TEXT_%d", i);
   char* bk = xasprintf("BRUM_HOOK_BANNER_%d", i);
   env_set(env, tk, text);
   pkg_sv_push(head, xasprintf("t%d=$%s; unset %s\n", i, tk, tk));
   if (show) {
      char* b = banner(p, s, event, text);
      char* full = p->pm == PM_YARN ? xstrdup(b) : xasprintf("\n%s\n", b);
      env_set(env, bk, full);
      pkg_sv_push(head, xasprintf("b%d=$%s; unset %s\n", i, bk, bk));
      pkg_sv_push(prog, xasprintf("printf '%%s\\n' \"$b%d\"\n", i));
      free(full);
      free(b);
   }
   pkg_sv_push(prog, xstrdup("export npm_lifecycle_event="));
   sh_quote(prog, event);
   pkg_sv_push(prog, xasprintf(" npm_lifecycle_script=\"$t%d\"\n%s", i, last ? "exec " : ""));
   sh_quote(prog, shell);
   pkg_sv_push(prog, xstrdup(last ? " -c \"$npm_lifecycle_script\"\n"
                                  : " -c \"$npm_lifecycle_script\" || exit\n"));
   free(bk);
   free(tk);
}

static char* join(StrVec* v) {
   size_t n = 0;
   for (size_t i = 0; i < v->n; i++) n += strlen(v->v[i]);
   char* out = xmalloc(n + 1);
   size_t o = 0;
   for (size_t i = 0; i < v->n; i++) {
      size_t k = strlen(v->v[i]);
      memcpy(out + o, v->v[i], k);
      o += k;
      free(v->v[i]);
   }
   out[o] = '\0';
   free(v->v);
   *v = (StrVec){0};
   return out;
}

/* A banner as a launch note: brum prints it, not the script, so the names and text in it are
 * made safe for a terminal (controls shown as U+00B7), line by line. Takes text. */
static char* note_text(char* text) {
   StrVec out = {0};
   for (const char* t = text;;) {
      size_t n = strcspn(t, "\n");
      char* line = xstrndup(t, n);
      pkg_sv_push(&out, util_sanitize(line));
      free(line);
      if (!t[n]) break;
      pkg_sv_push(&out, xstrdup("\n"));
      t += n + 1;
   }
   free(text);
   return join(&out);
}

static void direct(const Project* p, PkgRunCtx* c, const Script* s, StrVec* argv, StrVec* env,
                   char** note) {
   const char* event = bare_name(s);
   bool owned;
   char** base = package_env(p, c, s, &owned);
   for (char** e = base; *e; e++) pkg_sv_push(env, owned ? *e : xstrdup(*e));
   if (owned) free(base);
   env_set(env, "npm_lifecycle_event", event);
   env_set(env, "npm_lifecycle_script", s->command);
   const char* shell = script_shell(p, c);
   bool hooks = hooks_on(p, c);
   const char* pre = hooks ? s->pre : NULL;
   const char* post = hooks ? s->post : NULL;
   const char* loglevel = ctx_setting(c, "loglevel");
   bool show = !(loglevel && strcmp(loglevel, "silent") == 0);
   if (!pre && !post) {
      /* The child is the shell: one process, as with `sh -c` by hand. */
      pkg_sv_push(argv, xstrdup(shell));
      pkg_sv_push(argv, xstrdup("-c"));
      pkg_sv_push(argv, xstrdup(s->command));
      if (show) *note = note_text(banner(p, s, event, s->command));
      return;
   }
   StrVec head = {0}, prog = {0};
   if (pre) {
      char* ev = xasprintf("pre%s", event);
      add_stage(&head, &prog, env, p, s, shell, 0, ev, pre, false, show);
      free(ev);
   }
   add_stage(&head, &prog, env, p, s, shell, 1, event, s->command, !post, show);
   if (post) {
      char* ev = xasprintf("post%s", event);
      add_stage(&head, &prog, env, p, s, shell, 2, ev, post, true, show);
      free(ev);
   }
   for (size_t i = 0; i < prog.n; i++) pkg_sv_push(&head, prog.v[i]);
   free(prog.v);
   pkg_sv_push(argv, xstrdup("/bin/sh"));
   pkg_sv_push(argv, xstrdup("-c"));
   pkg_sv_push(argv, join(&head));
}

int pkg_run_prepare(const Project* p, const Script* s, bool via_pm, PkgRun* out) {
   *out = (PkgRun){0};
   if (!p || !s) return -EINVAL;
   PkgRunCtx* c = ctx_get(p);
   StrVec env = {0}, argv = {0};
   const char* pm = pkg_manager_name(p->pm);
   const Package* pk = package_of(p, s);
   char* why =
       via_pm   ? xstrdup("--via-pm")
       : c->via ? xstrdup(c->via)
       : pk && pk->dev_engines && p->pm == PM_NPM
           ? xstrdup("package.json has devEngines, which npm checks before it runs a script")
           : NULL;
   if (why && c->exe) {
      for (char** e = environ; e && *e; e++) pkg_sv_push(&env, xstrdup(*e));
      if (!env_get(&env, "FORCE_COLOR") && !env_get(&env, "NO_COLOR"))
         env_set(&env, "FORCE_COLOR", "1");
      pkg_sv_push(&argv, xstrdup(pm));
      pkg_sv_push(&argv, xstrdup("run"));
      /* "-h" would be an option to the manager: npm, yarn 1, pnpm and bun all take "--" first */
      if (bare_name(s)[0] == '-') pkg_sv_push(&argv, xstrdup("--"));
      pkg_sv_push(&argv, xstrdup(bare_name(s)));
      out->note = via_pm ? xasprintf("running through %s (--via-pm)", pm)
                         : xasprintf("running through %s: %s", pm, why);
   } else {
      direct(p, c, s, &argv, &env, &out->note);
      if (via_pm) {
         char* note = xasprintf("--via-pm: %s is not installed: running the script directly%s%s",
                                pm, out->note ? "\n" : "", out->note ? out->note : "");
         free(out->note);
         out->note = note;
      }
   }
   free(why);
   pkg_sv_push(&argv, NULL);
   pkg_sv_push(&env, NULL);
   out->argv = argv.v;
   out->env = env.v;
   out->cwd = xstrdup(s->dir);
   return 0;
}

void pkg_run_free(PkgRun* r) {
   if (!r) return;
   for (char** a = r->argv; a && *a; a++) free(*a);
   for (char** e = r->env; e && *e; e++) free(*e);
   free(r->argv);
   free(r->env);
   free(r->cwd);
   free(r->note);
   *r = (PkgRun){0};
}
