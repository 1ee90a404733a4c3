#include "common/ml_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ml_strerror(int code)
{
	switch (code) {
	case ML_OK:
		return "ok";
	case ML_EINVAL:
		return "invalid input";
	case ML_ENOTFOUND:
		return "not found";
	case ML_ECONFLICT:
		return "conflict";
	case ML_ESTATE:
		return "not allowed in current state";
	case ML_EEXISTS:
		return "already exists";
	case ML_EDB:
		return "database error";
	case ML_EIO:
		return "I/O error";
	case ML_EDEVICE:
		return "device error";
	case ML_ETIMEOUT:
		return "timeout";
	case ML_EPROTO:
		return "protocol error";
	case ML_ENOMEM:
		return "out of memory";
	case ML_EINTERNAL:
		return "internal error";
	case ML_ECONFIG:
		return "configuration error";
	case ML_EPDF:
		return "PDF error";
	case ML_EPERM:
		return "permission denied";
	default:
		return "unknown error";
	}
}

int ml_errorf(struct ml_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

int ml_error_prefix(struct ml_error *err, const char *fmt, ...)
{
	if (!err)
		return ML_OK;
	char prefix[256];
	char old[ML_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	size_t pl = strnlen(prefix, sizeof(prefix));
	if (pl >= sizeof(err->msg))
		pl = sizeof(err->msg) - 1;
	memcpy(err->msg, prefix, pl);
	size_t room = sizeof(err->msg) - 1 - pl;
	size_t ol = strnlen(old, room);
	memcpy(err->msg + pl, old, ol);
	err->msg[pl + ol] = '\0';
	return err->code;
}

void ml_error_clear(struct ml_error *err)
{
	if (err) {
		err->code = ML_OK;
		err->msg[0] = '\0';
	}
}

const char *ml_errno_str(int errnum, char *buf, size_t len)
{
	/* GNU strerror_r may return a static string instead of filling buf. */
	const char *s = strerror_r(errnum, buf, len);
	if (s != buf)
		snprintf(buf, len, "%s", s);
	return buf;
}
