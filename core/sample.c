/* The resource sampler on the supervisor thread: every SAMPLE_EVERY_MS while sup_sample is on and
 * some process runs, one pass over /proc/[0-9]*\/stat sums CPU time and RSS by session (each child
 * leads its own: sid == pid; by session rather than process group, as `timeout` or a shell with
 * job control moves its children to a group of their own), and the groups' /proc/PID/fd links map
 * the listening sockets (sock_diag netlink, else /proc/net/tcp{,6}) to them. The timer stops when
 * sampling is off or nothing runs: no wakeups at idle. A snapshot is published only when a figure
 * changed. Cheap by reuse: between full scans (every SAMPLE_FULL_EVERY ticks) only the known
 * members are read, and descriptors only when a group's members or the listening sockets changed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/sample.h"
#include "core/sup_int.h"
#include "core/util.h"

/* ---------------------------------------------------------------- parsers */

static bool hex_field(const char** p, uint64_t* v) {
   char* end;
   errno = 0;
   unsigned long long x = strtoull(*p, &end, 16);
   if (end == *p || errno) return false;
   *v = x;
   *p = end;
   return true;
}

static const char* skip_fields(const char* p, const char* e, int k) {
   while (k-- > 0) {
      while (p < e && *p == ' ') p++;
      while (p < e && *p != ' ' && *p != '\n') p++;
   }
   while (p < e && *p == ' ') p++;
   return p;
}

/* "  0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 12345 ..."
 */
static bool parse_tcp_line(const char* p, const char* e, NetListen* out) {
   p = skip_fields(p, e, 1); /* sl */
   const char* colon = memchr(p, ':', (size_t)(e - p));
   if (!colon || colon + 1 >= e) return false;
   const char* q = colon + 1;
   uint64_t port, st, inode;
   if (!hex_field(&q, &port) || port == 0 || port > 65535) return false;
   q = skip_fields(q, e, 1); /* rem_address */
   if (!hex_field(&q, &st) || st != 0x0A) return false;
   q = skip_fields(q, e, 5); /* tx:rx, tr:tm, retrnsmt, uid, timeout */
   char* end;
   inode = strtoull(q, &end, 10);
   if (end == q || inode == 0) return false;
   out->port = (uint16_t)port;
   out->inode = inode;
   return true;
}

size_t sample_parse_tcp(const char* text, NetListen** out, size_t* n, size_t* cap) {
   const char* p = strchr(text, '\n'); /* the header */
   size_t added = 0;
   while (p && *++p) {
      const char* e = strchr(p, '\n');
      if (!e) e = p + strlen(p);
      NetListen l;
      if (parse_tcp_line(p, e, &l)) {
         if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *out = xrealloc(*out, *cap * sizeof **out);
         }
         (*out)[(*n)++] = l;
         added++;
      }
      p = *e ? e : NULL;
   }
   return added;
}

/* A whole (small) file of /proc; NULL when it cannot be read. *len excludes the NUL. */
static char* read_all(int dirfd, const char* path, size_t* len) {
   int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
   if (fd < 0) return NULL;
   size_t cap = 16384, n = 0;
   char* buf = xmalloc(cap);
   for (;;) {
      if (cap - n < 4096) buf = xrealloc(buf, cap *= 2);
      ssize_t r = read(fd, buf + n, cap - n - 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      n += (size_t)r;
   }
   close(fd);
   buf[n] = '\0';
   if (len) *len = n;
   return buf;
}

static void push_listen(NetListen** out, size_t* n, size_t* cap, uint16_t port, uint64_t inode) {
   if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 64;
      *out = xrealloc(*out, *cap * sizeof **out);
   }
   (*out)[(*n)++] = (NetListen){.inode = inode, .port = port};
}

/* The listening TCP sockets of one family through the kernel's socket diagnostics (what `ss -lt`
 * uses): only the listening hash is walked. Reading /proc/net/tcp walks every connection's bucket
 * too, 15 ms a read on a large machine, which alone was most of the sampler's cost. False when
 * netlink is not available here (then /proc/net/tcp is read). */
static bool diag_listens(int family, NetListen** out, size_t* n, size_t* cap) {
   int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
   if (fd < 0) return false;
   struct {
      struct nlmsghdr nlh;
      struct inet_diag_req_v2 r;
   } req = {.nlh = {.nlmsg_len = sizeof req,
                    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
            .r = {.sdiag_family = (uint8_t)family,
                  .sdiag_protocol = IPPROTO_TCP,
                  .idiag_states = 1u << 10 /* TCP_LISTEN */}};
   bool ok = false, done = false;
   size_t n0 = *n;
   if (send(fd, &req, sizeof req, 0) == (ssize_t)sizeof req) {
      char buf[16384] __attribute__((aligned(8)));
      while (!done) {
         ssize_t r = recv(fd, buf, sizeof buf, 0);
         if (r < 0 && errno == EINTR) continue;
         if (r <= 0) break;
         int len = (int)r;
         for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, len) && !done;
              h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
               ok = h->nlmsg_type == NLMSG_DONE;
               done = true;
               break;
            }
            const struct inet_diag_msg* m = NLMSG_DATA(h);
            if (m->idiag_inode) push_listen(out, n, cap, ntohs(m->id.idiag_sport), m->idiag_inode);
         }
      }
   }
   close(fd);
   if (!ok) *n = n0; /* a partial answer is no answer: the caller falls back */
   return ok;
}

size_t sample_read_listens(NetListen** out) {
   size_t n = 0, cap = 0;
   *out = NULL;
   if (diag_listens(AF_INET, out, &n, &cap) && diag_listens(AF_INET6, out, &n, &cap)) return n;
   n = 0;
   const char* files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
   for (size_t i = 0; i < ARRAY_LEN(files); i++) {
      char* t = read_all(AT_FDCWD, files[i], NULL);
      if (t) sample_parse_tcp(t, out, &n, &cap);
      free(t);
   }
   return n;
}

uint32_t sample_cpu_permille(uint64_t dticks, uint64_t dms, long hz) {
   if (!dms || hz <= 0) return 0;
   return (uint32_t)(dticks * 1000000u / ((uint64_t)hz * dms));
}

bool sample_parse_stat(const char* s, size_t n, int* sid, uint64_t* ticks, uint64_t* rss) {
   const char* r = NULL; /* after the last ')': the command may hold spaces and parentheses */
   for (size_t i = n; i-- > 0;)
      if (s[i] == ')') {
         r = s + i + 1;
         break;
      }
   if (!r) return false;
   /* fields from 3 (state): session is 6, utime 14, stime 15, rss 24 */
   unsigned long long f[22];
   int got = 0;
   const char* p = r;
   const char* e = s + n;
   for (int k = 3; k <= 24 && p < e; k++) {
      while (p < e && *p == ' ') p++;
      if (k == 3) {
         while (p < e && *p != ' ') p++;
         continue;
      }
      char* end;
      f[k - 3] = strtoull(p, &end, 10);
      if (end == p) return false;
      p = end;
      got = k;
   }
   if (got < 24) return false;
   *sid = (int)f[6 - 3];
   *ticks = f[14 - 3] + f[15 - 3];
   *rss = f[24 - 3];
   return true;
}

/* ---------------------------------------------------------------- the sampler */

typedef struct Group {
   Proc* p;
   uint64_t rss_pages;
   SampleMember* m; /* its members (for the fd links and the CPU time of each) */
   size_t nm, cap;
   uint16_t ports[PROC_MAX_PORTS];
   uint8_t nports;
} Group;

static int group_cmp(const void* a, const void* b) {
   int x = ((const Group*)a)->p->pid, y = ((const Group*)b)->p->pid;
   return (x > y) - (x < y);
}

static Group* group_find(Group* g, size_t n, int sid) {
   size_t lo = 0, hi = n;
   while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (g[mid].p->pid == sid) return &g[mid];
      if (g[mid].p->pid < sid)
         lo = mid + 1;
      else
         hi = mid;
   }
   return NULL;
}

/* One process's stat into its group (NULL: find the group by its sid among g). False when it is
 * gone or in another group now. */
static bool add_stat(int dfd, const char* pid, Group* grp, Group* g, size_t n) {
   char path[300], buf[1024];
   snprintf(path, sizeof path, "%s%s/stat", dfd == AT_FDCWD ? "/proc/" : "", pid);
   int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
   if (fd < 0) return false; /* it ended meanwhile */
   ssize_t r = read(fd, buf, sizeof buf - 1);
   close(fd);
   int sid;
   uint64_t ticks, rss;
   if (r <= 0 || !sample_parse_stat(buf, (size_t)r, &sid, &ticks, &rss)) return false;
   if (!grp) grp = group_find(g, n, sid);
   if (!grp || grp->p->pid != sid) return false;
   grp->rss_pages += rss;
   if (grp->nm == grp->cap)
      grp->m = xrealloc(grp->m, (grp->cap = grp->cap ? grp->cap * 2 : 8) * sizeof *grp->m);
   grp->m[grp->nm++] = (SampleMember){.pid = atoi(pid), .ticks = ticks};
   return true;
}

/* Every process of the system: each one whose group is one of ours adds its time and memory. */
static void scan_stats(Group* g, size_t n) {
   DIR* d = opendir("/proc");
   if (!d) return;
   struct dirent* de;
   while ((de = readdir(d)))
      if (de->d_name[0] >= '1' && de->d_name[0] <= '9') add_stat(dirfd(d), de->d_name, NULL, g, n);
   closedir(d);
}

/* Between full scans: only the members found last time (and the leader) are read. A process
 * that joins a group counts from the next full scan (at most SAMPLE_FULL_EVERY ticks later). */
static void scan_members(Group* g, size_t n) {
   char pid[16];
   for (size_t i = 0; i < n; i++) {
      Proc* p = g[i].p;
      bool leader = false;
      for (size_t j = 0; p->sample && j < p->sample->nmembers; j++) {
         int m = p->sample->members[j].pid;
         snprintf(pid, sizeof pid, "%d", m);
         if (add_stat(AT_FDCWD, pid, &g[i], g, n)) leader |= m == p->pid;
      }
      snprintf(pid, sizeof pid, "%d", p->pid);
      if (!leader) add_stat(AT_FDCWD, pid, &g[i], g, n);
   }
}

static int listen_cmp(const void* a, const void* b) {
   uint64_t x = ((const NetListen*)a)->inode, y = ((const NetListen*)b)->inode;
   return (x > y) - (x < y);
}

static void add_port(Group* grp, uint16_t port) {
   for (uint8_t i = 0; i < grp->nports; i++)
      if (grp->ports[i] == port) return;
   if (grp->nports < PROC_MAX_PORTS) grp->ports[grp->nports++] = port;
}

/* The socket inodes among a process's descriptors that listen (l sorted by inode). */
static void scan_fds(Group* grp, int pid, const NetListen* l, size_t nl) {
   char path[64], link[64];
   snprintf(path, sizeof path, "/proc/%d/fd", pid);
   DIR* d = opendir(path);
   if (!d) return; /* not ours to read, or gone */
   struct dirent* de;
   while ((de = readdir(d))) {
      if (de->d_name[0] == '.') continue;
      ssize_t k = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
      if (k < 9 || memcmp(link, "socket:[", 8) != 0) continue;
      link[k] = '\0';
      NetListen key = {.inode = strtoull(link + 8, NULL, 10)};
      const NetListen* hit = bsearch(&key, l, nl, sizeof *l, listen_cmp);
      if (hit) add_port(grp, hit->port);
   }
   closedir(d);
}

static int port_cmp(const void* a, const void* b) {
   return (int)*(const uint16_t*)a - (int)*(const uint16_t*)b;
}

static int member_cmp(const void* a, const void* b) {
   int x = ((const SampleMember*)a)->pid, y = ((const SampleMember*)b)->pid;
   return (x > y) - (x < y);
}

/* CPU time the group used since the last sample, member by member: one that ended since takes
 * nothing away, one that is new brings all it used (it started after the last full scan). */
static uint64_t group_dticks(Group* grp) {
   Proc* p = grp->p;
   if (grp->nm) qsort(grp->m, grp->nm, sizeof *grp->m, member_cmp);
   uint64_t dt = 0;
   for (size_t j = 0; j < grp->nm; j++) {
      const SampleMember* was = p->sample->nmembers
                                    ? bsearch(&grp->m[j], p->sample->members, p->sample->nmembers,
                                              sizeof *grp->m, member_cmp)
                                    : NULL;
      uint64_t before = was ? was->ticks : 0;
      dt += grp->m[j].ticks > before ? grp->m[j].ticks - before : 0;
   }
   return dt;
}

/* The figures of one group into its process's snapshot; published when one changed. */
static void group_publish(Group* grp, uint64_t now, long hz, long page) {
   Proc* p = grp->p;
   ProcSnap* c = &p->cur;
   uint64_t since = p->sample->ms ? p->sample->ms : c->started_ms;
   uint32_t cpu = sample_cpu_permille(group_dticks(grp), now > since ? now - since : 0, hz);
   p->sample->ms = now;
   qsort(grp->ports, grp->nports, sizeof grp->ports[0], port_cmp);
   uint64_t rss = grp->rss_pages * (uint64_t)page;
   bool changed = !c->sampled_ms || c->cpu_permille != cpu || c->rss_bytes != rss ||
                  c->nports != grp->nports ||
                  memcmp(c->ports, grp->ports, grp->nports * sizeof c->ports[0]) != 0;
   c->sampled_ms = now;
   if (!changed) return;
   c->cpu_permille = cpu;
   c->rss_bytes = rss;
   c->nports = grp->nports;
   memcpy(c->ports, grp->ports, sizeof c->ports);
   proc_publish(p);
}

/* The running processes with a child, as groups sorted by pid; NULL when none. */
static Group* running_groups(Sup* s, size_t* n) {
   size_t total = sup_count(s), k = 0;
   Group* g = NULL;
   for (size_t i = 0; i < total; i++) {
      Proc* p = sup_proc(s, i);
      if (!proc_active(p) || p->pid <= 0) continue;
      if (!(k & (k + 1))) g = xrealloc(g, (k + 1) * 2 * sizeof *g);
      g[k++] = (Group){.p = p};
   }
   if (k) qsort(g, k, sizeof *g, group_cmp);
   *n = k;
   return g;
}

/* FNV-1a over 64-bit words: a signature of a set, to tell that it did not change */
static uint64_t sig_add(uint64_t h, uint64_t v) {
   for (int i = 0; i < 8; i++) h = (h ^ ((v >> (i * 8)) & 0xff)) * 1099511628211ull;
   return h;
}

/* The ports of a group: its members' descriptors are read only when its members or the system's
 * listening sockets changed since they were last read; otherwise the last answer stands. */
static void group_ports(Group* grp, const NetListen* l, size_t nl, uint64_t listen_sig) {
   Proc* p = grp->p;
   uint64_t sig = listen_sig;
   for (size_t j = 0; j < grp->nm; j++) /* a sum: in any order */
      sig += sig_add(14695981039346656037ull, (uint64_t)grp->m[j].pid);
   if (p->cur.sampled_ms && sig == p->sample->sig) {
      grp->nports = p->cur.nports;
      memcpy(grp->ports, p->cur.ports, sizeof grp->ports);
      return;
   }
   for (size_t j = 0; nl && j < grp->nm; j++) scan_fds(grp, grp->m[j].pid, l, nl);
   p->sample->sig = sig;
}

/* On: counted by sup_sample, or for a while after sup_sample_awhile. */
static bool sampling(const Sup* s) {
   return s->sample_on || util_now_ms() < s->sample_until_ms;
}

static void on_sample_timer(uv_timer_t* t) {
   Sup* s = t->data;
   if (!sampling(s)) { /* the control server's while is over, and nobody else asks */
      uv_timer_stop(t);
      return;
   }
   size_t n;
   Group* g = running_groups(s, &n);
   if (!n) { /* nothing runs: no more wakeups until a start */
      uv_timer_stop(t);
      free(g);
      return;
   }
   bool full = s->sample_tick++ % SAMPLE_FULL_EVERY == 0;
   for (size_t i = 0; i < n && !full; i++) full = !g[i].p->sample || !g[i].p->sample->members;
   if (full)
      scan_stats(g, n);
   else
      scan_members(g, n);
   NetListen* l;
   size_t nl = sample_read_listens(&l);
   if (nl) qsort(l, nl, sizeof *l, listen_cmp);
   uint64_t listen_sig = 14695981039346656037ull;
   for (size_t i = 0; i < nl; i++) listen_sig = sig_add(listen_sig, l[i].inode ^ l[i].port);
   uint64_t now = util_now_ms();
   long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
   for (size_t i = 0; i < n; i++) {
      if (!g[i].p->sample) g[i].p->sample = xcalloc(1, sizeof *g[i].p->sample);
      group_ports(&g[i], l, nl, listen_sig);
      group_publish(&g[i], now, hz, page);
      Proc* p = g[i].p; /* its members, for the ticks between full scans */
      free(p->sample->members);
      p->sample->members = g[i].m;
      p->sample->nmembers = g[i].nm;
   }
   free(l);
   free(g);
}

/* Sampling is on and something may run: arm the timer (a first sample soon, then every 2 s). */
void sample_kick(Sup* s) {
   if (!sampling(s) || atomic_load(&s->finished)) return;
   if (uv_is_active((uv_handle_t*)&s->sample_timer)) return;
   uv_timer_start(&s->sample_timer, on_sample_timer, 200, SAMPLE_EVERY_MS);
}

void sample_set(Sup* s, bool on) {
   if (on)
      s->sample_on++;
   else if (s->sample_on)
      s->sample_on--;
   if (sampling(s))
      sample_kick(s);
   else if (!atomic_load(&s->finished))
      uv_timer_stop(&s->sample_timer);
}

void sample_awhile(Sup* s) {
   s->sample_until_ms = util_now_ms() + SAMPLE_AWHILE_MS;
   sample_kick(s);
}

/* A new run: its figures are those of the new run only. */
void sample_begin_run(Proc* p) {
   ProcSnap* c = &p->cur;
   c->sampled_ms = 0;
   c->cpu_permille = 0;
   c->rss_bytes = 0;
   c->nports = 0;
   memset(c->ports, 0, sizeof c->ports);
   if (p->sample) free(p->sample->members), memset(p->sample, 0, sizeof *p->sample);
}

void sample_free(Proc* p) {
   if (p->sample) free(p->sample->members);
   free(p->sample);
}
