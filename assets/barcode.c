#include "assets/barcode.h"

#include <stdio.h>
#include <string.h>

int barcode_check_digit(const char *first21)
{
	int sum = 0;
	for (int i = 0; i < BARCODE_LEN - 1; i++) {
		char c = first21[i];
		if (c < '0' || c > '9')
			return -1;
		/* position i+1 counted from the left: odd positions weigh 3 */
		sum += (c - '0') * (i % 2 == 0 ? 3 : 1);
	}
	return (10 - sum % 10) % 10;
}

int barcode_validate(const char *s, struct ml_error *err)
{
	if (!s)
		return ml_errorf(err, ML_EINVAL, "barcode is missing");
	size_t len = strlen(s);
	if (len != BARCODE_LEN)
		return ml_errorf(
			err, ML_EINVAL,
			"barcode '%s' has %zu characters; a State Grid asset barcode has 22 digits",
			s, len);
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ml_errorf(err, ML_EINVAL,
					 "barcode '%s' has a non-digit '%c' at position %zu", s,
					 s[i], i + 1);
	}
	int want = barcode_check_digit(s);
	if (s[BARCODE_LEN - 1] - '0' != want)
		return ml_errorf(
			err, ML_EINVAL,
			"barcode '%s' has check digit %c, expected %d (mod-10, weights 3/1)", s,
			s[BARCODE_LEN - 1], want);
	return ML_OK;
}

int barcode_make(const char *unit5, const char *type2, unsigned long long serial, char out[23],
		 struct ml_error *err)
{
	if (!unit5 || strlen(unit5) != 5 || !type2 || strlen(type2) != 2)
		return ml_errorf(err, ML_EINVAL,
				 "barcode unit code must be 5 digits and type 2 digits");
	if (serial > 99999999999999ULL)
		return ml_errorf(err, ML_EINVAL, "serial %llu does not fit in 14 digits", serial);
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%s%s%014llu", unit5, type2, serial);
	int cd = barcode_check_digit(tmp);
	if (cd < 0)
		return ml_errorf(err, ML_EINVAL, "barcode prefix '%s' contains a non-digit", tmp);
	memcpy(out, tmp, BARCODE_LEN - 1);
	out[BARCODE_LEN - 1] = (char)('0' + cd);
	out[BARCODE_LEN] = '\0';
	return ML_OK;
}
