/*
 * wav_seal: a WAV file left by a writer that died before closing it.
 */
#ifndef ME_SYNTH_WAV_SEAL_H
#define ME_SYNTH_WAV_SEAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Seals a WAV file whose writer died before closing it (a killed scsynth
 * leaves the RIFF and data sizes it wrote at the start: 0 or a placeholder):
 * sets both from the file's length, whole frames only, so that any reader
 * takes the samples that are there.  A regular file only (never follows a
 * symbolic link).  Returns 1 when it patched the file, 0 when the sizes
 * were already right, -1 with err set on a failure.
 */
int wav_seal(const char *path, char *err, size_t errlen);

#endif
