// The driver's Modbus RTU path (framing, CRC, unit id) over a pair of
// pseudo-terminals joined by a relay thread, against a libmodbus RTU server
// holding an identity and positions encoded by the test.
#include <gtest/gtest.h>

#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include <modbus/modbus.h>

#include "devices/bench.h"
#include "devices/bench_codec.h"
#include "devices/bench_regmap.h"

struct PtyLink {
	int m1 = -1, s1 = -1, m2 = -1, s2 = -1;
	char n1[64] = "", n2[64] = "";
	std::atomic<bool> stop{ false };
	std::thread relay;

	bool open()
	{
		if (openpty(&m1, &s1, n1, nullptr, nullptr) ||
		    openpty(&m2, &s2, n2, nullptr, nullptr))
			return false;
		relay = std::thread([this] {
			struct pollfd pf[2] = { { m1, POLLIN, 0 }, { m2, POLLIN, 0 } };
			char buf[512];
			while (!stop) {
				if (poll(pf, 2, 20) <= 0)
					continue;
				for (int k = 0; k < 2; k++) {
					if (!(pf[k].revents & POLLIN))
						continue;
					ssize_t n = read(pf[k].fd, buf, sizeof(buf));
					if (n > 0 && write(k ? m1 : m2, buf, (size_t)n) != n)
						return;
				}
			}
		});
		return true;
	}
	~PtyLink()
	{
		stop = true;
		if (relay.joinable())
			relay.join();
		for (int fd : { m1, s1, m2, s2 })
			if (fd >= 0)
				close(fd);
	}
};

struct RtuServer {
	modbus_t *ctx = nullptr;
	modbus_mapping_t *map = nullptr;
	std::atomic<bool> stop{ false };
	std::thread th;

	bool start(const char *dev, int unit)
	{
		map = modbus_mapping_new_start_address(0, 0, 0, 0, 0, 0, 0, BR_POS_ADDR(2));
		ctx = modbus_new_rtu(dev, 19200, 'N', 8, 1);
		if (!map || !ctx || modbus_set_slave(ctx, unit) || modbus_connect(ctx))
			return false;
		modbus_set_indication_timeout(ctx, 0, 50000);
		uint16_t *in = map->tab_input_registers;
		in[BR_ID_PROTO_MAJOR] = 1;
		in[BR_ID_CLASS] = 1;
		in[BR_ID_POSITIONS] = 2;
		in[BR_ID_PHASES] = 3;
		in[BR_ID_CAPS] = 0x1F;
		bcodec_put_f32(&in[BR_ID_UMAX], 456.0f);
		bcodec_put_f32(&in[BR_ID_IMAX], 120.0f);
		bcodec_put_f32(&in[BR_ID_STDCLASS], 0.02f);
		bcodec_put_str(&in[BR_ID_MODEL], 16, "RTU-BENCH");
		uint16_t *p1 = &in[BR_POS_ADDR(1)];
		p1[BR_PS_STATE] = BENCH_POS_RUNNING;
		p1[BR_PS_PRESENT] = 1;
		p1[BR_PS_SEQ] = 65535; // wraps next
		bcodec_put_i32(&p1[BR_PS_VALUE], -9300);
		th = std::thread([this] {
			uint8_t req[MODBUS_RTU_MAX_ADU_LENGTH];
			while (!stop) {
				int n = modbus_receive(ctx, req);
				if (n > 0)
					modbus_reply(ctx, req, n, map);
			}
		});
		return true;
	}
	~RtuServer()
	{
		stop = true;
		if (th.joinable())
			th.join();
		if (ctx) {
			modbus_close(ctx);
			modbus_free(ctx);
		}
		modbus_mapping_free(map);
	}
};

TEST(Rtu, DriverIdentifiesAndReadsOverSerialFraming)
{
	PtyLink link;
	ASSERT_TRUE(link.open());
	RtuServer srv;
	ASSERT_TRUE(srv.start(link.n2, 7));
	std::string uri = std::string("rtu:") + link.n1 + "?baud=19200&unit=7";
	struct bench_options o = {};
	o.response_timeout_ms = 500;
	struct ml_error err = ML_ERROR_INIT;
	struct bench *b = nullptr;
	ASSERT_EQ(bench_open(uri.c_str(), &o, &b, &err), ML_OK) << err.msg;
	EXPECT_STREQ(bench_backend_name(b), "modbus-rtu");
	struct bench_identity id;
	ASSERT_EQ(bench_identify(b, &id, &err), ML_OK) << err.msg;
	EXPECT_EQ(id.phases, 3);
	EXPECT_EQ(id.positions, 2);
	EXPECT_EQ(id.u_max, 456.0f);
	EXPECT_STREQ(id.model, "RTU-BENCH");
	struct bench_position_status st[2];
	ASSERT_EQ(bench_read_positions(b, 0, 2, st, &err), ML_OK) << err.msg;
	EXPECT_EQ(st[1].reading_seq, 65535);
	EXPECT_EQ(st[1].value_e4, -9300);
	EXPECT_EQ(st[0].present, 0);
	bench_close(b);

	// another unit id on the same line: the server stays silent -> timeout
	uri = std::string("rtu:") + link.n1 + "?unit=9";
	o.response_timeout_ms = 100;
	o.retries = -1;
	ASSERT_EQ(bench_open(uri.c_str(), &o, &b, &err), ML_OK) << err.msg;
	EXPECT_EQ(bench_identify(b, &id, &err), ML_ETIMEOUT);
	EXPECT_NE(strstr(err.msg, "read input 0x0000+12"), nullptr) << err.msg;
	bench_close(b);
}
