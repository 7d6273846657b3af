/* fuzz_heap.c - libFuzzer over heap_model_run: any byte string is a list of heap
 * operations checked against the reference; a disagreement aborts. */
#include <stdlib.h>

#include "heap_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (heap_model_run(data, size, 0))
		abort();
	return 0;
}
