/*
 * bench_regmap.h — register map of the bench Modbus protocol, version 1.1
 * (../shared/bench-protocol.md), shared by the driver (bench_modbus.c) and
 * the simulator (benchsim.c) so both sides cannot drift apart. Only the
 * addresses below are mapped: every gap answers exception 02 (§5), so reads
 * cover mapped ranges only (BR_ID_HEAD and BR_ID_STR for the identity).
 *
 * Addresses are 0-based protocol addresses (mbpoll's -r is 1-based: add 1).
 */
#ifndef ML_BENCH_REGMAP_H
#define ML_BENCH_REGMAP_H

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol limits (§1): registers per read / per write. */
#define BR_MAX_READ 125
#define BR_MAX_WRITE 123
#define BR_MAX_POSITIONS 96

/* §3.1 identity, input registers */
#define BR_ID_PROTO_MAJOR 0x0000
#define BR_ID_PROTO_MINOR 0x0001
#define BR_ID_CLASS 0x0002
#define BR_ID_POSITIONS 0x0003
#define BR_ID_PHASES 0x0004
#define BR_ID_CAPS 0x0005
#define BR_ID_UMAX 0x0006
#define BR_ID_IMAX 0x0008
#define BR_ID_STDCLASS 0x000A
#define BR_ID_HEAD_END 0x000C /* 0x0000..0x000B mapped; 0x000C..0x000F are not */
#define BR_ID_MODEL 0x0010    /* str[32] = 16 registers */
#define BR_ID_SERIAL 0x0020   /* str[16] = 8 registers */
#define BR_ID_FIRMWARE 0x0028 /* str[16] = 8 registers */
#define BR_ID_END 0x0030

/* The protocol minor version this code speaks (§6); 0 = 1.0 (f32 kWh register). */
#define BR_PROTO_MINOR 1

/* §3.2 source status, input registers */
#define BR_SRC_STATE 0x0100
#define BR_SRC_FAULT 0x0101
#define BR_SRC_APPLIED 0x0102
#define BR_SRC_HEARTBEAT 0x0103
#define BR_SRC_FREQ 0x0104
#define BR_SRC_U 0x0106
#define BR_SRC_I 0x010C
#define BR_SRC_PHI 0x0112
#define BR_SRC_P 0x0118
#define BR_SRC_Q 0x011A
#define BR_SRC_END 0x011C

/* §3.3 / §4.4 positions: 16 registers each, input = status, holding = config */
#define BR_POS_BASE 0x1000
#define BR_POS_STRIDE 16
#define BR_POS_PER_READ 7 /* 7 x 16 = 112 <= 125 */
#define BR_POS_ADDR(p) (BR_POS_BASE + BR_POS_STRIDE * (p))

#define BR_PS_STATE 0
#define BR_PS_PRESENT 1
#define BR_PS_SEQ 2
#define BR_PS_RESULT 3
#define BR_PS_VALUE 4
#define BR_PS_PULSES 6
#define BR_PS_ELAPSED 8
#define BR_PS_VALUE2 10
#define BR_PS_REGISTER 12 /* 1.1: u32 register_wh; 1.0: f32 kWh (§6) */
#define BR_PS_COMM 14

#define BR_PC_MODE 0
#define BR_PC_CONSTANT 1
#define BR_PC_PULSES 3
#define BR_PC_TLIMIT 4
#define BR_PC_COMMAND 6
#define BR_PC_ENABLED 7
#define BR_PC_CLKFREQ 8
#define BR_PC_USED 10 /* offsets 10..15 reserved */

/* §4.1 global control, holding */
#define BR_ALL_COMMAND 0x0010

/* §4.2 source setpoints, holding */
#define BR_SP_WIRING 0x0100
#define BR_SP_ENERGY 0x0101
#define BR_SP_FREQ 0x0102
#define BR_SP_U 0x0104
#define BR_SP_I 0x010A
#define BR_SP_PHI 0x0110
#define BR_SP_MASK 0x0116
#define BR_SP_SEQ 0x0117
#define BR_SP_COMMAND 0x0118
#define BR_SP_END 0x0119

/* §4.3 transformer setpoints, holding (device_class 2 only) */
#define BR_XF_KIND 0x0200
#define BR_XF_PRIMARY 0x0201
#define BR_XF_SECONDARY 0x0203
#define BR_XF_PERCENT 0x0205
#define BR_XF_BURDEN_VA 0x0207
#define BR_XF_BURDEN_PF 0x0209
#define BR_XF_SEQ 0x020B
#define BR_XF_COMMAND 0x020C
#define BR_XF_END 0x020D

/*
 * Simulator-only control registers (holding, FC 03/06/16), NOT part of the
 * published protocol: a real bench answers exception 02 here. They let any
 * Modbus master (a test, mbpoll) inject faults at run time. Requests to this
 * range are never themselves delayed, dropped or answered with an injected
 * exception, so a test can always switch a fault off again.
 */
#define BR_CTL_BASE 0xF000
#define BR_CTL_DELAY_MS 0xF000    /* delay replies by this many ms (real time) */
#define BR_CTL_DELAY_COUNT 0xF001 /* number of next replies to delay; 0 = every reply */
#define BR_CTL_EXC_CODE 0xF002    /* answer requests with this exception code (0 = off) */
#define BR_CTL_EXC_COUNT 0xF003   /* number of next requests to refuse; 0 = every one */
#define BR_CTL_FREEZE_HB 0xF004   /* 1 freezes the heartbeat (a hung device) */
#define BR_CTL_DROP_AFTER 0xF005  /* drop every connection at the Nth next request (no reply) */
#define BR_CTL_DOWN_MS 0xF006     /* after a drop, refuse connections for this many ms */
#define BR_CTL_DROP_NOW 0xF007    /* write 1: drop every connection after this reply */
#define BR_CTL_REQUESTS 0xF008    /* u32, read-only: requests answered outside this range */
#define BR_CTL_CLIENTS 0xF00A     /* read-only: connected clients */
#define BR_CTL_END 0xF00B

#ifdef __cplusplus
}
#endif
#endif
