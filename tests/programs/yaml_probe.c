/* Linked against the libyaml Debian installed: every 50 ms, the library's
 * version string (yaml_get_version_string, exported) and whether it accepts
 * U+FFFE, a noncharacter, as a scalar (checked by yaml_check_utf8, a static
 * function). */
#include <stdio.h>
#include <unistd.h>
#include <yaml.h>

int main(void) {
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    yaml_event_t ev;
    int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)"\xEF\xBF\xBE", 3, 1, 1,
                                          YAML_PLAIN_SCALAR_STYLE);
    if (ok) yaml_event_delete(&ev);
    printf("version %s fffe %s\n", yaml_get_version_string(), ok ? "accepted" : "refused");
    fflush(stdout);
    usleep(50000);
  }
}
