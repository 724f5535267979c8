/*
 * config_read: reading libconfig settings and files (see config_read.h).
 * Any thread.
 */
#include "cfg/config_read.h"

#include <sys/stat.h>

bool config_read_number(const config_setting_t *s, double *v, bool *integral)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*v = config_setting_get_int(s);
		*integral = true;
		return true;
	case CONFIG_TYPE_INT64:
		*v = (double)config_setting_get_int64(s);
		*integral = true;
		return true;
	case CONFIG_TYPE_FLOAT:
		*v = config_setting_get_float(s);
		*integral = false;
		return true;
	default:
		return false;
	}
}

const char *config_read_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		return "a list";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	default:
		return "a number";
	}
}

const char *config_read_file_kind(mode_t m)
{
	return S_ISREG(m)                 ? NULL
	       : S_ISFIFO(m)              ? "a FIFO"
	       : S_ISDIR(m)               ? "a directory"
	       : S_ISCHR(m) || S_ISBLK(m) ? "a device"
	       : S_ISSOCK(m)              ? "a socket"
	                                  : "a special file";
}
