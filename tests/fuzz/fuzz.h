/*
 * fuzz: the one entry point shared by the libFuzzer target and the corpus
 * replay runner (which calls it with the normal compiler in `make check`).
 */
#ifndef ME_TESTS_FUZZ_H
#define ME_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
