/* The library of the ifunc kind: lib_chosen is an IFUNC whose resolver picks
 * one of two implementations. */
#include <stdio.h>

void lib_plain(int n) { printf("ifunc UNPATCHED %d\n", n); }

static void chosen_fast(int n) { printf("ifunc PATCHED resolved to chosen_fast %d\n", n); }
static void chosen_slow(int n) { printf("ifunc PATCHED resolved to chosen_slow %d\n", n); }

static int prefer_slow; /* always 0: the resolver's choice is chosen_fast */

static void (*pick_chosen(void))(int) { return prefer_slow ? chosen_slow : chosen_fast; }

void lib_chosen(int n) __attribute__((ifunc("pick_chosen")));
