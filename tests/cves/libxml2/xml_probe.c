/* A long-running libxml2 user for the libxml2 cases of the CVE corpus. Each
 * line on standard input names a probe, answered with one line; each runs in
 * a forked child (fork_probe.h).
 *   emptydict  looks up the empty string twice in a new dictionary, from
 *              buffers "a" and "b" with length 0: how many entries it then
 *              holds and whether both are the same string (CVE-2023-29469)
 *   nest       evaluates nest(1000), an XPath extension function that
 *              evaluates nest(n-1) in the same context under 10 nested
 *              additions, as EXSLT's dyn:evaluate does: how many levels ran
 *              before an error, or up to 1000 without one (CVE-2025-9714) */
#include "../fork_probe.h"

#include <libxml/parser.h>
#include <libxml/dict.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

static int levels;

static void nest(xmlXPathParserContextPtr ctxt, int nargs) {
  (void)nargs;
  int n = (int)xmlXPathPopNumber(ctxt);
  levels++;
  if (n <= 0) {
    xmlXPathReturnNumber(ctxt, 0);
    return;
  }
  char expr[128];
  snprintf(expr, sizeof expr, "0+(0+(0+(0+(0+(0+(0+(0+(0+(0+nest(%d))))))))))", n - 1);
  xmlXPathObjectPtr r = xmlXPathEval(BAD_CAST expr, ctxt->context);
  if (!r) {
    xmlXPathErr(ctxt, XPATH_EXPR_ERROR);
    return;
  }
  valuePush(ctxt, r);
}

static void quiet(void* ctx, const char* msg, ...) { (void)ctx; (void)msg; }

static void probe(const char* what) {
  if (strcmp(what, "emptydict") == 0) {
    xmlDictPtr d = xmlDictCreate();
    const xmlChar* a = xmlDictLookup(d, BAD_CAST "a", 0);
    const xmlChar* b = xmlDictLookup(d, BAD_CAST "b", 0);
    printf("entries %d same %d\n", xmlDictSize(d), a == b);
    xmlDictFree(d);
  } else if (strcmp(what, "nest") == 0) {
    xmlXPathContextPtr ctx = xmlXPathNewContext(NULL);
    xmlXPathRegisterFunc(ctx, BAD_CAST "nest", nest);
    levels = 0;
    xmlXPathObjectPtr r = xmlXPathEval(BAD_CAST "nest(1000)", ctx);
    printf("nest levels %d %s\n", levels, r ? "ok" : "error");
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
  } else {
    printf("unknown probe %s\n", what);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  xmlInitParser();
  xmlSetGenericErrorFunc(NULL, quiet);
  xmlSetStructuredErrorFunc(NULL, NULL);
  printf("ready\n");
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    run_forked(probe, line);
  }
  return 0;
}
