#!/usr/bin/python3
"""A small bench server written independently of meterlab, from
bench-protocol.md alone, with Debian's python3-pymodbus 3.0: the identity,
the source status and four positions. The devices tests start it and read
it with meterlab's driver: an interoperability check against a second
implementation of the register map (its own struct-based encoding).

It is strict, as a real bench is (§5): only the addresses of the protocol's
tables are mapped, every other address answers exception 02 (pymodbus'
sparse data blocks). It speaks version 1.1 (position status +12 is
register_wh, u32 Wh) or, with --v10, version 1.0 (+12 is f32 kWh).

It binds port 0 and prints "listening on 127.0.0.1:PORT" once it accepts
connections, so a test never guesses a free port.

usage: /usr/bin/python3 pymodbus_bench.py [--v10]
"""
import asyncio
import logging
import struct
import sys

from pymodbus.datastore import (ModbusServerContext, ModbusSlaveContext,
                                ModbusSparseDataBlock)
from pymodbus.server.async_io import ModbusTcpServer


def f32(v):
    """IEEE-754 binary32, high word first, big-endian bytes (ABCD)."""
    hi, lo = struct.unpack(">HH", struct.pack(">f", v))
    return [hi, lo]


def i32(v):
    hi, lo = struct.unpack(">HH", struct.pack(">i", v))
    return [hi, lo]


def u32(v):
    hi, lo = struct.unpack(">HH", struct.pack(">I", v))
    return [hi, lo]


def text(s, nregs):
    b = s.encode("ascii")[: 2 * nregs].ljust(2 * nregs, b"\0")
    return list(struct.unpack(">%dH" % nregs, b))


def put(regs, addr, values):
    for k, v in enumerate(values):
        regs[addr + k] = v


def register(minor, wh):
    """+12: u32 Wh (1.1) or f32 kWh (1.0), bench-protocol.md §3.3 and §6."""
    return u32(wh) if minor >= 1 else f32(wh / 1000.0)


def position(minor, state, present, seq, result, value, pulses, elapsed, value2, wh, comm):
    r = [state, present, seq, result] + i32(value) + u32(pulses) + f32(elapsed)
    return r + i32(value2) + register(minor, wh) + [comm, 0]


def build(minor):
    ir = {}
    # §3.1 identity: 0x0000..0x000B and 0x0010..0x002F only
    put(ir, 0x0000, [1, minor, 1, 4, 1, 0x0009])  # meter bench, 4 positions, 1 phase, basic+const
    put(ir, 0x0006, f32(240.0) + f32(80.0) + f32(0.1))
    put(ir, 0x0010, text("PYMODBUS-BENCH", 16))
    put(ir, 0x0020, text("PY-0042", 8))
    put(ir, 0x0028, text("pymodbus 3.0.0", 8))
    # §3.2 source: 0x0100..0x011B
    put(ir, 0x0100, [2, 0, 17, 321])  # stable, no fault, applied_seq 17, heartbeat 321
    put(ir, 0x0104, f32(50.0) + f32(220.0) + f32(0.0) + f32(0.0))
    put(ir, 0x010C, f32(5.0) + f32(0.0) + f32(0.0) + f32(0.0) + f32(0.0) + f32(0.0))
    put(ir, 0x0118, f32(1100.0) + f32(0.0))
    # §3.3 positions: 16 registers each
    put(ir, 0x1000, position(minor, 1, 1, 7, 0, -1705, 1234, 12.5, 0, 4321500, 1))
    put(ir, 0x1010, position(minor, 2, 1, 3, 3, 0, 2, 900.0, 0, 17250, 1))
    put(ir, 0x1020, position(minor, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0))
    # a register beyond 10^4 kWh: exact in 1.1, too coarse as f32 kWh in 1.0
    put(ir, 0x1030, position(minor, 2, 1, 1, 0, 6200, 60, 60.0, 125000, 12345670, 0))
    hr = {}
    hr[0x0010] = 0                                    # §4.1 all_command
    put(hr, 0x0100, [0] * (0x0119 - 0x0100))          # §4.2 source setpoints
    put(hr, 0x1000, [0] * (16 * 4))                   # §4.4 position configuration
    # zero_mode: protocol address N is data block address N (pymodbus adds 1 otherwise)
    slave = ModbusSlaveContext(ir=ModbusSparseDataBlock(ir), hr=ModbusSparseDataBlock(hr),
                               zero_mode=True)
    return ModbusServerContext(slaves=slave, single=True)


async def serve(minor):
    server = ModbusTcpServer(context=build(minor), address=("127.0.0.1", 0))
    task = asyncio.ensure_future(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print("listening on 127.0.0.1:%d" % port, flush=True)
    await task


def main():
    logging.disable(logging.CRITICAL)  # exception replies are expected: keep test logs clean
    minor = 0 if "--v10" in sys.argv[1:] else 1
    asyncio.run(serve(minor))


if __name__ == "__main__":
    main()
