#!/usr/bin/python3
"""Independent reference of meterlab's sample draw "chacha20-fy-v1" (lab/sampling_draw.h).

Anyone can redo a recorded draw with it:

    sampling_draw_ref.py draw SEEDHEX N K      indices (0-based, draw order) of the sample
    sampling_draw_ref.py lot SEEDHEX K < barcodes.txt
                                               the drawn barcodes of a lot: the list is sorted
                                               ascending first, as meterlab does
    sampling_draw_ref.py below SEEDHEX M COUNT COUNT values of uniform(M)
    sampling_draw_ref.py block KEYHEX COUNTER NONCEHEX
                                               one ChaCha20 block (RFC 8439 2.3), hex

Plain Python 3, no packages: ChaCha20 written out from RFC 8439.
"""
import struct
import sys

MASK = 0xFFFFFFFF
NONCE = b"ML-2859-DRW1"


def rotl(v, c):
    return ((v << c) & MASK) | (v >> (32 - c))


def quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & MASK
    s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & MASK
    s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & MASK
    s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & MASK
    s[b] = rotl(s[b] ^ s[c], 7)


def block(key, counter, nonce):
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    state += list(struct.unpack("<8I", key))
    state += [counter & MASK]
    state += list(struct.unpack("<3I", nonce))
    w = list(state)
    for _ in range(10):
        quarter(w, 0, 4, 8, 12)
        quarter(w, 1, 5, 9, 13)
        quarter(w, 2, 6, 10, 14)
        quarter(w, 3, 7, 11, 15)
        quarter(w, 0, 5, 10, 15)
        quarter(w, 1, 6, 11, 12)
        quarter(w, 2, 7, 8, 13)
        quarter(w, 3, 4, 9, 14)
    return struct.pack("<16I", *[(w[i] + state[i]) & MASK for i in range(16)])


class Rng:
    def __init__(self, seed):
        self.key = seed
        self.counter = 0
        self.buf = b""

    def u64(self):
        if not self.buf:
            self.buf = block(self.key, self.counter, NONCE)
            self.counter += 1
        v, = struct.unpack("<Q", self.buf[:8])
        self.buf = self.buf[8:]
        return v

    def below(self, m):
        threshold = (1 << 64) % m
        while True:
            x = self.u64()
            if x >= threshold:
                return x % m


def draw(seed, n, k):
    if k > n:
        raise ValueError("k > n")
    rng = Rng(seed)
    idx = list(range(n))
    for i in range(k):
        j = i + rng.below(n - i)
        idx[i], idx[j] = idx[j], idx[i]
    return idx[:k]


def main():
    cmd = sys.argv[1]
    if cmd == "block":
        print(block(bytes.fromhex(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])).hex())
        return
    seed = bytes.fromhex(sys.argv[2])
    assert len(seed) == 32
    if cmd == "draw":
        print(" ".join(str(i) for i in draw(seed, int(sys.argv[3]), int(sys.argv[4]))))
    elif cmd == "lot":
        items = sorted(l.strip() for l in sys.stdin if l.strip())
        for i in draw(seed, len(items), int(sys.argv[3])):
            print(items[i])
    elif cmd == "below":
        rng = Rng(seed)
        print(" ".join(str(rng.below(int(sys.argv[3]))) for _ in range(int(sys.argv[4]))))
    else:
        sys.exit("unknown command " + cmd)


main()
