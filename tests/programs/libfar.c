/* A library whose variables the far_data program never uses before the fix:
 * the program calls only its functions, which report the variables' values,
 * so the test sees from the library's side whether the patch's writes land
 * in the library's own variables. */
int far_counter;
long far_total = 100;
const char *far_name = "library";
short far_small = 7;

int far_get_counter(void) { return far_counter; }
long far_get_total(void) { return far_total; }
int far_get_small(void) { return far_small; }
