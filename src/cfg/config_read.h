/*
 * config_read: what reading any libconfig file of the program needs, for
 * the configuration loader and the preset reader alike: a setting as a
 * number whatever libconfig made of it, the name of a setting's type for
 * "expected X, found Y", and why a file that exists is not a regular file
 * (a FIFO would hang libconfig's fopen).  Any thread.
 */
#ifndef ME_CFG_CONFIG_READ_H
#define ME_CFG_CONFIG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <sys/types.h>

/* An int, int64 or float setting as a double (integral: it was an integer);
 * false for anything else. */
bool config_read_number(const config_setting_t *s, double *v, bool *integral);
/* "a group", "a list", "a string", "a boolean" or "a number". */
const char *config_read_type_name(const config_setting_t *s);
/* NULL for a regular file, else what it is: "a FIFO", "a directory",
 * "a device", "a socket", "a special file". */
const char *config_read_file_kind(mode_t m);

#endif
