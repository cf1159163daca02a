/* What running a script directly needs to know besides the package.json, found once per project:
 * the package manager's executable and version, node and its version, and the .npmrc settings in
 * effect (npm 7+'s @npmcli/config: files, then npm_config_* variables). */
#include "scripts/pkg.h"
#include "scripts/pkg_impl.h"
#include "scripts/runctx.h"

#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <jansson.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

/* An .npmrc is a few lines; anything bigger is not one. */
#define NPMRC_MAX (1u << 20)

const char* ctx_setting(const PkgRunCtx* c, const char* key) {
   return json_string_value(json_object_get(c->settings, key));
}

bool ctx_true(const PkgRunCtx* c, const char* key) {
   const char* v = ctx_setting(c, key);
   return v && strcmp(v, "true") == 0;
}

/* The first executable regular file called name on PATH, as a real path; NULL: none. */
static char* find_on_path(const char* name) {
   const char* path = getenv("PATH");
   if (!path) path = "/usr/local/bin:/usr/bin:/bin";
   for (const char* p = path;;) {
      size_t n = strcspn(p, ":");
      char* dir = n ? xstrndup(p, n) : xstrdup(".");
      char* file = pkg_join_path(dir, name);
      free(dir);
      struct stat st;
      char* real = NULL;
      if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0)
         real = realpath(file, NULL);
      free(file);
      if (real) return real;
      if (!p[n]) return NULL;
      p += n + 1;
   }
}

static char* dir_of(const char* path) {
   const char* slash = strrchr(path, '/');
   if (!slash) return xstrdup(".");
   return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/* The package a manager's executable belongs to (npm-cli.js is in npm/bin/): the nearest of its
 * three parent directories whose package.json is named name. *version: its version. */
static char* package_of(const char* exe, const char* name, char** version) {
   char* dir = dir_of(exe);
   for (int up = 0; up < 3; up++) {
      char* pj = pkg_join_path(dir, "package.json");
      char* text = NULL;
      size_t len;
      bool found = false;
      if (util_read_file(pj, NPMRC_MAX, &text, &len, NULL) == 0) {
         json_t* root = json_loadb(text, len, 0, NULL);
         const char* n = json_string_value(json_object_get(root, "name"));
         const char* v = json_string_value(json_object_get(root, "version"));
         if (n && strcmp(n, name) == 0) {
            found = true;
            if (v && !*version) *version = xstrdup(v);
         }
         json_decref(root);
         free(text);
      }
      free(pj);
      if (found) return dir;
      char* parent = dir_of(dir);
      free(dir);
      dir = parent;
   }
   free(dir);
   return NULL;
}

/* `node --version`, read from a pipe; NULL when it fails. */
static char* run_node_version(const char* node) {
   int fds[2];
   if (pipe2(fds, O_CLOEXEC) < 0) return NULL;
   posix_spawn_file_actions_t fa;
   posix_spawn_file_actions_init(&fa);
   posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
   posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
   posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
   char* argv[] = {(char*)node, (char*)"--version", NULL};
   pid_t pid;
   int err = posix_spawn(&pid, node, &fa, NULL, argv, environ);
   posix_spawn_file_actions_destroy(&fa);
   close(fds[1]);
   char buf[64];
   size_t n = 0;
   ssize_t r;
   while (err == 0 && n < sizeof buf - 1 &&
          ((r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
      if (r > 0) n += (size_t)r;
   close(fds[0]);
   int status = 0;
   if (err == 0)
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
   buf[n] = '\0';
   buf[strcspn(buf, "\r\n")] = '\0';
   if (err != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || buf[0] != 'v') return NULL;
   return xstrdup(buf);
}

/* node's version for npm's user agent. Starting node costs 30 ms or more, which a script's first
 * line must not wait for: the answer is kept in $XDG_CACHE_HOME/brum/node-version, keyed by the
 * binary's path, size and modification time. */
static char* node_version(const char* node) {
   struct stat st;
   if (stat(node, &st) < 0) return NULL;
   char* key = xasprintf("%s %jd %jd.%09ld", node, (intmax_t)st.st_size,
                         (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
   const char* xdg = getenv("XDG_CACHE_HOME");
   const char* home = getenv("HOME");
   char* dir = xdg && *xdg ? xasprintf("%s/brum", xdg)
               : home      ? xasprintf("%s/.cache/brum", home)
                           : NULL;
   char* file = dir ? pkg_join_path(dir, "node-version") : NULL;
   char* text = NULL;
   size_t len;
   char* version = NULL;
   if (file && util_read_file(file, 4096, &text, &len, NULL) == 0) {
      size_t kn = strlen(key);
      if (strncmp(text, key, kn) == 0 && text[kn] == '\n' && text[kn + 1] == 'v')
         version = xstrndup(text + kn + 1, strcspn(text + kn + 1, "\n"));
      free(text);
   }
   if (!version && (version = run_node_version(node)) && dir) {
      /* Written whole under a temporary name, then renamed: a reader never sees half of it. */
      char* tmp = xasprintf("%s.%d", file, (int)getpid());
      /* $XDG_CACHE_HOME or ~/.cache may not exist yet: make each level (EEXIST is fine) */
      for (char* slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
         *slash = '\0';
         mkdir(dir, 0700);
         *slash = '/';
      }
      mkdir(dir, 0700);
      FILE* f = fopen(tmp, "we");
      if (f) {
         bool ok = fprintf(f, "%s\n%s\n", key, version) > 0;
         ok = fclose(f) == 0 && ok;
         if (!ok || rename(tmp, file) < 0) unlink(tmp);
      }
      free(tmp);
   }
   free(file);
   free(dir);
   free(key);
   return version;
}

/* ---- .npmrc ---- */

/* Keys whose values npm reads as paths: "~/" is the home directory. */
static bool is_path_key(const char* key) {
   static const char* const keys[] = {"cache",    "cafile", "globalconfig", "init-module",
                                      "logs-dir", "prefix", "userconfig",   "provenance-file"};
   for (size_t i = 0; i < ARRAY_LEN(keys); i++)
      if (strcmp(key, keys[i]) == 0) return true;
   return false;
}

/* An .npmrc value as npm reads it: quotes removed, ${VAR} replaced by the variable (\${ is a
 * literal ${), true stays "true", false and null become "" (how npm exports them), and "~/" at
 * the start of a path is the home directory. */
static char* npmrc_value(const char* key, const char* raw) {
   size_t n = strlen(raw);
   char* v;
   if (n >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[n - 1] == raw[0]) {
      json_t* j = raw[0] == '"' ? json_loads(raw, JSON_DECODE_ANY, NULL) : NULL;
      v = json_is_string(j) ? xstrdup(json_string_value(j)) : xstrndup(raw + 1, n - 2);
      json_decref(j);
   } else {
      v = xstrdup(raw);
   }
   if (strcmp(v, "false") == 0 || strcmp(v, "null") == 0) v[0] = '\0';
   size_t cap = strlen(v) + 1, o = 0;
   char* out = xmalloc(cap);
   for (const char* s = v; *s;) {
      const char* val = NULL;
      size_t skip = 1, vn = 0;
      if (s[0] == '\\' && s[1] == '$' && s[2] == '{') {
         val = "${", vn = 2, skip = 3;
      } else if (s[0] == '$' && s[1] == '{' && strchr(s, '}')) {
         char* name = xstrndup(s + 2, (size_t)(strchr(s, '}') - s - 2));
         val = getenv(name);
         vn = val ? strlen(val) : 0;
         skip = strlen(name) + 3;
         free(name);
      } else {
         val = s, vn = 1;
      }
      if (o + vn + 1 > cap) cap = (o + vn + 1) * 2, out = xrealloc(out, cap);
      if (vn) memcpy(out + o, val, vn);
      o += vn;
      s += skip;
   }
   out[o] = '\0';
   free(v);
   const char* home = getenv("HOME");
   if (is_path_key(key) && strncmp(out, "~/", 2) == 0 && home) {
      char* h = pkg_join_path(home, out + 2);
      free(out);
      out = h;
   }
   return out;
}

/* The setting an npm_config_ variable names, as npm's env layer reads it: npm_config_FOO_BAR is
 * foo-bar (an underscore first stays: npm_config__auth is _auth). */
static char* env_setting_key(const char* k) {
   char* s = xstrdup(k);
   for (char* c = s; *c; c++) {
      if (*c == '_' && c != s) *c = '-';
      if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
   }
   return s;
}

typedef struct RcLoad {
   PkgRunCtx* c;
   const char* file;
   json_t* arrays; /* key[] values of this file, joined as npm exports arrays */
} RcLoad;

/* Sets key unless a file read before (a higher precedence) set it already. */
static void put_setting(PkgRunCtx* c, const char* key, const char* value, const char* file) {
   if (json_object_get(c->settings, key)) return;
   json_object_set_new(c->settings, key, json_string(value));
   if (file) {
      json_object_set_new(c->from_files, key, json_string(value));
      json_object_set_new(c->where, key, json_string(file));
   }
}

static int on_npmrc(void* ud, const char* section, const char* name, const char* value) {
   RcLoad* l = ud;
   if (section && *section) return 1; /* a [section] is an object: npm exports none of it */
   size_t n = strlen(name);
   bool array = n > 2 && strcmp(name + n - 2, "[]") == 0;
   char* key = xstrndup(name, array ? n - 2 : n);
   char* v = npmrc_value(key, value);
   if (array) {
      const char* had = json_string_value(json_object_get(l->arrays, key));
      char* joined = had ? xasprintf("%s\n\n%s", had, v) : xstrdup(v);
      json_object_set_new(l->arrays, key, json_string(joined));
      free(joined);
   } else {
      put_setting(l->c, key, v, l->file);
   }
   free(v);
   free(key);
   return 1;
}

static void load_npmrc(PkgRunCtx* c, const char* file) {
   char* text = NULL;
   size_t len;
   if (util_read_file(file, NPMRC_MAX, &text, &len, NULL) < 0) return;
   RcLoad l = {.c = c, .file = file, .arrays = json_object()};
   ini_parse_string(text, on_npmrc, &l);
   const char* k;
   json_t* v;
   json_object_foreach(l.arrays, k, v) {
      put_setting(c, k, json_string_value(v), file);
   }
   json_decref(l.arrays);
   free(text);
}

/* npm's precedence: npm_config_* variables, then the project's .npmrc, the user's, the global
 * one, npm's built-in one; the first to set a key wins. */
static void load_settings(PkgRunCtx* c, const Project* p) {
   for (char** e = environ; e && *e; e++) {
      if (strncasecmp(*e, "npm_config_", 11) != 0 || !strchr(*e, '=')) continue;
      char* raw = xstrndup(*e + 11, (size_t)(strchr(*e, '=') - *e - 11));
      char* key = env_setting_key(raw);
      if (*key) put_setting(c, key, strchr(*e, '=') + 1, NULL);
      free(key);
      free(raw);
   }
   char* project = pkg_join_path(p->dir, ".npmrc");
   load_npmrc(c, project);
   free(project);
   const char* home = getenv("HOME");
   const char* user = ctx_setting(c, "userconfig");
   char* userfile = user ? xstrdup(user) : home ? pkg_join_path(home, ".npmrc") : NULL;
   if (userfile) load_npmrc(c, userfile);
   /* The global prefix: a setting, $PREFIX, or the directory node was installed into. */
   const char* prefix = ctx_setting(c, "prefix");
   if (!prefix) prefix = getenv("PREFIX");
   char* nodedir = c->node ? dir_of(c->node) : NULL;
   c->prefix = prefix ? xstrdup(prefix) : nodedir ? dir_of(nodedir) : xstrdup("/usr/local");
   free(nodedir);
   const char* global = ctx_setting(c, "globalconfig");
   char* globalfile = global ? xstrdup(global) : pkg_join_path(c->prefix, "etc/npmrc");
   load_npmrc(c, globalfile);
   c->userconfig = userfile ? userfile : xstrdup("");
   c->globalconfig = globalfile;
   if (c->npm_root) {
      char* builtin = pkg_join_path(c->npm_root, "npmrc");
      load_npmrc(c, builtin);
      free(builtin);
   }
}

/* Is the Yarn here 2 or later? packageManager, .yarnrc.yml (Yarn 1 reads .yarnrc), a Yarn 2+
 * lockfile (it has __metadata), or the installed yarn's own version. */
static bool yarn_berry(const Project* p, const char* version) {
   if (version && atoi(version) >= 2) return true;
   char* rc = pkg_join_path(p->dir, ".yarnrc.yml");
   bool yml = access(rc, F_OK) == 0;
   free(rc);
   if (yml) return true;
   /* The lockfile's head is enough: __metadata comes first, after a comment. */
   char* lock = pkg_join_path(p->dir, "yarn.lock");
   int fd = util_open_regular(lock, O_RDONLY, 0, NULL);
   free(lock);
   if (fd < 0) return false;
   char head[4096];
   ssize_t n = read(fd, head, sizeof head - 1);
   close(fd);
   head[n > 0 ? n : 0] = '\0';
   return strstr(head, "__metadata:") != NULL;
}

static bool exists_in(const char* dir, const char* name) {
   char* f = pkg_join_path(dir, name);
   bool ok = access(f, F_OK) == 0;
   free(f);
   return ok;
}

/* Why this project's scripts must go through the manager, or NULL. */
static char* via_reason(const PkgRunCtx* c, const Project* p) {
   const char* pm = pkg_manager_name(p->pm);
   if (p->pm == PM_BUN) return xstrdup("bun runs package scripts with its own runtime and shell");
   if (p->pm == PM_YARN && (exists_in(p->dir, ".pnp.cjs") || exists_in(p->dir, ".pnp.js")))
      return xstrdup("Yarn Plug'n'Play (.pnp.cjs) resolves packages through yarn");
   if (p->pm == PM_YARN && yarn_berry(p, c->version))
      return xstrdup("Yarn 2+ runs scripts in its own shell with its own variables");
   /* Settings that change what `run` does in ways brum does not reproduce: npm's select other
    * packages to run in; pnpm's shell emulator is its own shell. */
   static const char* const npm_keys[] = {"workspace", "workspaces", "include-workspace-root"};
   static const char* const pnpm_keys[] = {"shell-emulator"};
   const char* const* unsupported = p->pm == PM_PNPM ? pnpm_keys : npm_keys;
   size_t nkeys = p->pm == PM_PNPM ? ARRAY_LEN(pnpm_keys) : ARRAY_LEN(npm_keys);
   for (size_t i = 0; i < nkeys; i++) {
      const char* v = ctx_setting(c, unsupported[i]);
      if (!v || !*v) continue;
      const char* file = json_string_value(json_object_get(c->where, unsupported[i]));
      return xasprintf("%s sets %s, which brum does not implement: %s runs the script",
                       file ? file : "the environment (npm_config_*)", unsupported[i], pm);
   }
   return NULL;
}

PkgRunCtx* ctx_get(const Project* p) {
   if (p->run_ctx) return p->run_ctx;
   PkgRunCtx* c = xcalloc(1, sizeof *c);
   c->settings = json_object();
   c->from_files = json_object();
   c->where = json_object();
   if (!c->settings || !c->from_files || !c->where) util_die_oom();
   const char* pm = pkg_manager_name(p->pm);
   c->exe = find_on_path(pm);
   if (p->pm_version) c->version = xstrdup(p->pm_version);
   if (c->exe) {
      char* root = package_of(c->exe, pm, &c->version);
      if (p->pm == PM_NPM)
         c->npm_root = root;
      else
         free(root);
   }
   c->node = find_on_path("node");
   if (c->node) c->node_version = node_version(c->node);
   load_settings(c, p);
   c->via = via_reason(c, p);
   c->envs = xcalloc(p->npackages ? p->npackages : 1, sizeof *c->envs);
   c->npackages = p->npackages;
   char cwd[PATH_MAX];
   c->cwd = xstrdup(getcwd(cwd, sizeof cwd) ? cwd : p->dir);
   ((Project*)p)->run_ctx = c; /* a cache: the project itself does not change */
   return c;
}

void pkg_run_ctx_free(PkgRunCtx* c) {
   if (!c) return;
   for (size_t i = 0; i < c->npackages; i++) {
      for (char** e = c->envs[i]; e && *e; e++) free(*e);
      free(c->envs[i]);
   }
   free(c->envs);
   json_decref(c->settings);
   json_decref(c->from_files);
   json_decref(c->where);
   free(c->exe);
   free(c->version);
   free(c->npm_root);
   free(c->node);
   free(c->node_version);
   free(c->prefix);
   free(c->userconfig);
   free(c->globalconfig);
   free(c->via);
   free(c->cwd);
   free(c);
}
