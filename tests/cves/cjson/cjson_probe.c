/* A long-running cJSON user for the cJSON cases of the CVE corpus. Each line
 * on standard input names one probe; the answer is one line. Probes that
 * crash the buggy library run in a forked child (fork_probe.h).
 *   num N     parse "1" followed by N zeros, print the value (CVE-2023-26819)
 *   ptr P     JSON pointer P into a 24-item array (CVE-2025-57052)
 *   setnull   cJSON_SetValuestring(string, NULL)   (CVE-2024-31755)
 *   insnull   cJSON_InsertItemInArray(array, 0, NULL)  (CVE-2023-50471) */
#include "../fork_probe.h"

#include <cJSON.h>
#include <cJSON_Utils.h>
#include <stdlib.h>

static void null_probe(const char* probe) {
  if (strcmp(probe, "setnull") == 0) {
    cJSON* s = cJSON_CreateString("abc");
    printf("set %s\n", cJSON_SetValuestring(s, NULL) ? "non-null" : "null");
  } else {
    cJSON* a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateString("first"));
    printf("insert %d\n", (int)cJSON_InsertItemInArray(a, 0, NULL));
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "num ", 4) == 0) {
      int zeros = atoi(line + 4);
      char text[300] = "1";
      for (int i = 0; i < zeros && i < 290; i++) strcat(text, "0");
      cJSON* n = cJSON_Parse(text);
      if (n) printf("value %.0e\n", n->valuedouble); else printf("parse error\n");
      cJSON_Delete(n);
    } else if (strncmp(line, "ptr ", 4) == 0) {
      cJSON* a = cJSON_CreateArray();
      for (int i = 0; i < 24; i++) {
        char item[8];
        snprintf(item, sizeof item, "i%d", i);
        cJSON_AddItemToArray(a, cJSON_CreateString(item));
      }
      cJSON* hit = cJSONUtils_GetPointer(a, line + 4);
      printf("item %s\n", hit ? hit->valuestring : "none");
      cJSON_Delete(a);
    } else if (strcmp(line, "setnull") == 0 || strcmp(line, "insnull") == 0) {
      run_forked(null_probe, line);
    } else {
      printf("unknown probe %s\n", line);
    }
  }
  return 0;
}
