/*
 * benchsim_remote.c — switch a running simulator's faults over Modbus, from
 * any process (`meterlab bench fault`): writes the simulator-only control
 * registers (bench_regmap.h BR_CTL_*). A real bench answers exception 02.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modbus/modbus.h>

#include "devices/bench_codec.h"
#include "devices/bench_regmap.h"
#include "devices/benchsim.h"

static const struct {
	const char *key;
	int reg;
} ctl_keys[] = {
	{ "delay_ms", BR_CTL_DELAY_MS },
	{ "delay_count", BR_CTL_DELAY_COUNT },
	{ "exception", BR_CTL_EXC_CODE },
	{ "exception_count", BR_CTL_EXC_COUNT },
	{ "freeze_heartbeat", BR_CTL_FREEZE_HB },
	{ "drop_after", BR_CTL_DROP_AFTER },
	{ "down_ms", BR_CTL_DOWN_MS },
	{ "drop_now", BR_CTL_DROP_NOW },
};

int benchsim_control_register(const char *key)
{
	for (size_t i = 0; i < sizeof(ctl_keys) / sizeof(ctl_keys[0]); i++)
		if (!strcmp(key, ctl_keys[i].key))
			return ctl_keys[i].reg;
	return -1;
}

static modbus_t *remote_open(const char *hostport, struct ml_error *err)
{
	char host[256], port[16] = "502";
	const char *s = strncmp(hostport, "tcp://", 6) ? hostport : hostport + 6;
	const char *colon = strrchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strlen(s);
	if (!hl || hl >= sizeof(host) ||
	    (colon && (!colon[1] || strlen(colon + 1) >= sizeof(port)))) {
		ml_errorf(err, ML_EINVAL, "simulator address '%s' is not HOST[:PORT]", hostport);
		return NULL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (colon)
		snprintf(port, sizeof(port), "%s", colon + 1);
	modbus_t *ctx = modbus_new_tcp_pi(host, port);
	if (!ctx || modbus_connect(ctx) == -1) {
		char es[96];
		ml_errorf(err, ML_EIO, "simulator %s: connect: %s", hostport,
			  ml_errno_str(errno, es, sizeof(es)));
		modbus_free(ctx);
		return NULL;
	}
	return ctx;
}

static int remote_fail(modbus_t *ctx, const char *hostport, const char *what, int reg,
		       struct ml_error *err)
{
	int e = errno;
	char es[96];
	const char *cause = e == EMBXILADD ? "exception 02 (not a meterlab simulator?)"
					   : ml_errno_str(e, es, sizeof(es));
	modbus_close(ctx);
	modbus_free(ctx);
	return ml_errorf(err, e == EMBXILADD ? ML_EDEVICE : ML_EIO, "simulator %s: %s 0x%04X: %s",
			 hostport, what, (unsigned)reg, cause);
}

int benchsim_remote_set(const char *hostport, const char *key, uint16_t value, struct ml_error *err)
{
	int reg = benchsim_control_register(key);
	if (reg < 0)
		return ml_errorf(
			err, ML_EINVAL,
			"unknown fault '%s' (delay_ms, delay_count, exception, exception_count, "
			"freeze_heartbeat, drop_after, down_ms, drop_now)",
			key);
	modbus_t *ctx = remote_open(hostport, err);
	if (!ctx)
		return err ? err->code : ML_EIO;
	if (modbus_write_register(ctx, reg, value) != 1)
		return remote_fail(ctx, hostport, "write", reg, err);
	modbus_close(ctx);
	modbus_free(ctx);
	return ML_OK;
}

int benchsim_remote_get(const char *hostport, struct benchsim_faults *f, uint32_t *requests,
			uint16_t *clients, struct ml_error *err)
{
	uint16_t r[BR_CTL_END - BR_CTL_BASE];
	modbus_t *ctx = remote_open(hostport, err);
	if (!ctx)
		return err ? err->code : ML_EIO;
	if (modbus_read_registers(ctx, BR_CTL_BASE, BR_CTL_END - BR_CTL_BASE, r) < 0)
		return remote_fail(ctx, hostport, "read holding", BR_CTL_BASE, err);
	modbus_close(ctx);
	modbus_free(ctx);
	f->delay_ms = r[BR_CTL_DELAY_MS - BR_CTL_BASE];
	f->delay_count = r[BR_CTL_DELAY_COUNT - BR_CTL_BASE];
	f->exception = r[BR_CTL_EXC_CODE - BR_CTL_BASE];
	f->exception_count = r[BR_CTL_EXC_COUNT - BR_CTL_BASE];
	f->freeze_heartbeat = r[BR_CTL_FREEZE_HB - BR_CTL_BASE];
	f->drop_after = r[BR_CTL_DROP_AFTER - BR_CTL_BASE];
	f->down_ms = r[BR_CTL_DOWN_MS - BR_CTL_BASE];
	if (requests)
		*requests = bcodec_get_u32(&r[BR_CTL_REQUESTS - BR_CTL_BASE]);
	if (clients)
		*clients = r[BR_CTL_CLIENTS - BR_CTL_BASE];
	return ML_OK;
}
