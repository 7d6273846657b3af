/* heap_model.h - runs a byte string as heap operations against heap_core and a reference
 * (every live block's address, size and contents, and the page source's own record of
 * what is mapped); shared by the model test and the fuzzer. */
#ifndef TESTS_HEAP_MODEL_H
#define TESTS_HEAP_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 when every operation agreed with the reference; else prints the first
 * disagreement (with its operation index) and returns 1. */
int heap_model_run(const uint8_t *data, size_t len, int verbose);

#endif
