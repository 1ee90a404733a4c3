#!/usr/bin/python3
"""A small bench server written independently of meterlab, with Debian's
python3-pymodbus 3.0.0, serving the identity and four positions of
bench-protocol.md v1. The devices tests start it on a free port and read it
with meterlab's driver: an interoperability check against a second
implementation of the register map (its own struct-based encoding).

usage: /usr/bin/python3 pymodbus_bench.py PORT
"""
import logging
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartTcpServer


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
    regs[addr:addr + len(values)] = values


def position(state, present, seq, result, value, pulses, elapsed, value2, reg, comm):
    r = [state, present, seq, result] + i32(value) + u32(pulses) + f32(elapsed)
    return r + i32(value2) + f32(reg) + [comm, 0]


def build():
    ir = [0] * (0x1000 + 16 * 4)
    put(ir, 0x0000, [1, 0, 1, 4, 1, 0x0001])  # v1.0, meter bench, 4 positions, 1 phase, basic
    put(ir, 0x0006, f32(240.0) + f32(80.0) + f32(0.1))
    put(ir, 0x0010, text("PYMODBUS-BENCH", 16))
    put(ir, 0x0020, text("PY-0042", 8))
    put(ir, 0x0028, text("pymodbus 3.0.0", 8))
    put(ir, 0x0100, [2, 0, 17, 321])  # stable, no fault, applied_seq 17, heartbeat 321
    put(ir, 0x0104, f32(50.0) + f32(220.0) + f32(0.0) + f32(0.0) + f32(5.0) + f32(0.0) + f32(0.0))
    put(ir, 0x1000, position(1, 1, 7, 0, -1705, 1234, 12.5, 0, 4321.5, 1))
    put(ir, 0x1010, position(2, 1, 3, 3, 0, 2, 900.0, 0, 17.25, 1))
    put(ir, 0x1020, position(0, 0, 0, 0, 0, 0, 0.0, 0, 0.0, 0))
    put(ir, 0x1030, position(2, 1, 1, 0, 6200, 60, 60.0, 125000, 0.0, 0))
    hr = [0] * (0x1000 + 16 * 4)
    # zero_mode: protocol address N is data block index N (pymodbus adds 1 otherwise)
    slave = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, ir),
                               hr=ModbusSequentialDataBlock(0, hr), zero_mode=True)
    return ModbusServerContext(slaves=slave, single=True)


def main():
    logging.basicConfig(level=logging.CRITICAL)
    port = int(sys.argv[1])
    StartTcpServer(context=build(), address=("127.0.0.1", port))


if __name__ == "__main__":
    main()
