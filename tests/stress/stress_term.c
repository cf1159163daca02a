/* Terminal mode under concurrency: full-screen children redrawing as fast as they can and line
 * children flooding, while the main thread sends keys, text, lines, wants and sizes, and two
 * reader threads copy every published TermScreen inside rcu_read_lock, as frames do. Screens
 * must be whole (cells within bounds, the cursor inside), and everything must end cleanly. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/sup.h"
#include "tests/stress/stress.h"

static const char* const scripts[] = {
    /* full screen, redrawn as fast as the shell can */
    "printf '\\033[?1049h'; i=0; while [ $i -lt 3000 ]; do printf '\\033[H\\033[2Jframe %d\\n"
    "\\033[31mred\\033[0m \\344\\270\\255 %d' $i $i; i=$((i+1)); done; printf '\\033[?1049l'",
    /* a line flood (its emulator comes and goes with the wants) */
    "i=0; while [ $i -lt 20000 ]; do echo \"flood $i\"; i=$((i+1)); done",
    /* reads its input and echoes it (a PTY echoes too) */
    "while read -r l; do echo \"got $l\"; done",
    /* interactive: an emulator while it runs */
    "printf 'prompt> '; sleep 2; echo bye",
};
#define NSCRIPTS (sizeof scripts / sizeof scripts[0])

static Sup* sup;
static atomic_bool stop;
static atomic_ulong bad, screens;

static void* reader(void* arg) {
   (void)arg;
   rcu_register_thread();
   uint64_t last[NSCRIPTS] = {0};
   while (!atomic_load(&stop)) {
      rcu_read_lock();
      const Registry* r = sup_registry(sup);
      for (size_t i = 0; i < r->n && i < NSCRIPTS; i++) {
         const TermScreen* ts = sup_screen(r->slots[i]);
         if (!ts) continue;
         if (ts->seq != last[i]) atomic_fetch_add(&screens, 1);
         last[i] = ts->seq;
         uint64_t sum = 0;
         for (size_t c = 0; c < (size_t)ts->rows * ts->cols; c++) sum += ts->cells[c].ch;
         (void)sum;
         if (ts->cur_row > ts->rows || ts->cur_col > ts->cols || !ts->rows || !ts->cols)
            atomic_fetch_add(&bad, 1);
      }
      rcu_read_unlock();
   }
   rcu_unregister_thread();
   return NULL;
}

static int run(void) {
   int fails = 0;
   SupConfig cfg = {.use_pty = true, .kill_timeout_s = 0.5, .cols = 80, .rows = 24};
   EXPECT(sup_new(&cfg, &sup, NULL) == 0, "the supervisor starts");
   if (!sup) return fails;
   for (size_t i = 0; i < NSCRIPTS; i++) {
      char sh[] = "/bin/sh", dc[] = "-c";
      char* argv[] = {sh, dc, (char*)scripts[i], NULL};
      SupLaunch l = {.argv = argv, .cwd = "/tmp", .interactive = i == 3};
      sup_add(sup, "p", &l);
   }
   for (size_t i = 0; i < NSCRIPTS; i++) sup_start(sup, i);
   pthread_t th[2];
   for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, reader, NULL);
   uint64_t seed = 42;
   for (int round = 0; round < 300; round++) {
      uint64_t id = stress_rand(&seed) % NSCRIPTS;
      switch (stress_rand(&seed) % 7) {
      case 0:
         sup_term_want(sup, id, true);
         break;
      case 1:
         sup_term_want(sup, id, false);
         break;
      case 2:
         sup_resize_proc(sup, id, (unsigned short)(40 + stress_rand(&seed) % 80),
                         (unsigned short)(10 + stress_rand(&seed) % 30));
         break;
      case 3:
         sup_input_line(sup, 2, "hello", 5);
         break;
      case 4: {
         TermKey k = {.code = TK_UP};
         sup_key(sup, id, &k);
         break;
      }
      case 5:
         sup_input(sup, id, "pasted text", 11, true);
         break;
      default:
         if (stress_rand(&seed) % 10 == 0) sup_restart(sup, id);
         break;
      }
      stress_sleep_ms(5);
   }
   sup_quit(sup);
   for (int i = 0; i < 1000 && !sup_finished(sup); i++) stress_sleep_ms(10);
   EXPECT(sup_finished(sup), "quitting ends in time");
   atomic_store(&stop, true);
   for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
   EXPECT(atomic_load(&bad) == 0, "%lu torn screens", atomic_load(&bad));
   EXPECT(atomic_load(&screens) > 0, "screens were published and read");
   printf("screens seen by the readers: %lu\n", atomic_load(&screens));
   sup_free(sup);
   return fails;
}

int main(void) {
   static const StressCase cases[] = {{"terminal mode under concurrency", run}};
   return stress_main(cases, ARRAY_LEN(cases));
}
