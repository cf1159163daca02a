/* Resource figures in the UI: the sidebar's CPU / RSS / port columns (`%`), the pane title's
 * figures, and the port-in-use dialog of `K` (kill the holder of the port a server wanted). */
#include <stdio.h>
#include <string.h>

#include "tui/view_impl.h"

/* 123M, 1.2G, 512K */
static void fmt_bytes(uint64_t b, char* out, size_t size) {
   if (b >= (10ull << 30))
      snprintf(out, size, "%lluG", (unsigned long long)(b >> 30));
   else if (b >= (1ull << 30))
      snprintf(out, size, "%.1fG", (double)b / (double)(1ull << 30));
   else if (b >= (1ull << 20))
      snprintf(out, size, "%lluM", (unsigned long long)(b >> 20));
   else
      snprintf(out, size, "%lluK", (unsigned long long)(b >> 10));
}

/* 0.4%, 12%, 230% */
static void fmt_cpu(uint32_t permille, char* out, size_t size) {
   if (permille < 100)
      snprintf(out, size, "%u.%u%%", permille / 10, permille % 10);
   else
      snprintf(out, size, "%u%%", permille / 10);
}

static bool has_figures(const ProcSnap* ps) {
   return ps->sampled_ms && snap_is_active(ps->state);
}

int res_width(const View* v) {
   return v->show_res ? 19 : 0;
}

size_t res_columns(const View* v, const ProcSnap* ps, char* out, size_t size) {
   out[0] = '\0';
   if (!v->show_res || !has_figures(ps)) return 0;
   char cpu[16], rss[16], port[16] = "";
   fmt_cpu(ps->cpu_permille, cpu, sizeof cpu);
   fmt_bytes(ps->rss_bytes, rss, sizeof rss);
   if (ps->nports) snprintf(port, sizeof port, ":%u%s", ps->ports[0], ps->nports > 1 ? "+" : "");
   int n = snprintf(out, size, "%5s %5s %-7s", cpu, rss, port);
   return n > 0 ? (size_t)n : 0;
}

size_t res_title(const View* v, const ProcSnap* ps, char* out, size_t size) {
   out[0] = '\0';
   if (!has_figures(ps)) return 0;
   const char* dot = v->ascii ? "-" : "·";
   char cpu[16], rss[16];
   fmt_cpu(ps->cpu_permille, cpu, sizeof cpu);
   fmt_bytes(ps->rss_bytes, rss, sizeof rss);
   size_t n = (size_t)snprintf(out, size, " %s cpu %s %s %s", dot, cpu, dot, rss);
   for (uint8_t i = 0; i < ps->nports && n < size; i++)
      n += (size_t)snprintf(out + n, size - n, "%s:%u", i ? "," : (v->ascii ? " - " : " · "),
                            ps->ports[i]);
   return n < size ? n : size - 1;
}

bool res_toggle(View* v) {
   v->show_res = !v->show_res;
   sup_sample(v->sup, v->show_res); /* the supervisor samples only while someone looks */
   set_msg(v, false, "CPU / memory / ports %s%s", v->show_res ? "shown" : "hidden",
           v->show_res ? " (sampled every 2 s)" : "");
   return true;
}

bool res_kill_holder(View* v) {
   const ProcSlot* slot = slot_of(v, v->sel);
   if (!slot) return false;
   if (!sup_port_holder(v->sup, v->sel, &v->port)) {
      set_msg(v, true,
              "%s: no port holder known (K works after a server fails with \"address already in "
              "use\")",
              slot->name);
      return true;
   }
   v->port_id = v->sel;
   v->confirm_port = true;
   return true;
}

bool res_confirm(View* v, int key) {
   v->confirm_port = false;
   if (key != 'y' && key != 'Y') return true;
   sup_free_port(v->sup, v->port_id);
   const ProcSlot* slot = slot_of(v, v->port_id);
   set_msg(v, false, "port %d: %s pid %d, then restarting %s", v->port.port,
           v->port.ours ? "stopping" : "SIGTERM to", v->port.pid, slot ? slot->name : "?");
   return true;
}

bool res_dialog(const View* v, char* l1, size_t n1, char* l2, size_t n2) {
   if (!v->confirm_port) return false;
   const ProcSlot* slot = slot_of(v, v->port_id);
   const ProcSlot* ours = v->port.ours ? slot_of(v, v->port.ours_id) : NULL;
   if (ours)
      snprintf(l1, n1, "Stop brum's `%s` (pid %d), which holds port %d, and restart %s?",
               ours->name, v->port.pid, v->port.port, slot ? slot->name : "?");
   else
      snprintf(l1, n1, "Kill pid %d (%.40s), which holds port %d, and restart %s?", v->port.pid,
               v->port.cmd, v->port.port, slot ? slot->name : "?");
   snprintf(l2, n2, "y: %s and restart     n / Esc: cancel", ours ? "stop" : "kill");
   return true;
}
