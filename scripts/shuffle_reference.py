#!/usr/bin/env python3
"""Independent reference for bnorm's data order (src/data/shuffle.hpp): std::mt19937_64 written
out from its published definition, then Fisher-Yates with rejection sampling, exactly as
uniform_below / fisher_yates_shuffle do. Prints the permutation of range(N) for a seed; the
pinned order in tests/data/batch_iterator_test.cpp came from here.

Usage: shuffle_reference.py SEED N
"""
import sys

MASK = (1 << 64) - 1


class MT19937_64:
    def __init__(self, seed):
        self.mt = [seed & MASK]
        for i in range(1, 312):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK)
        self.index = 312

    def __call__(self):
        if self.index == 312:
            for i in range(312):
                x = (self.mt[i] & 0xFFFFFFFF80000000) | (self.mt[(i + 1) % 312] & 0x7FFFFFFF)
                y = x >> 1
                if x & 1:
                    y ^= 0xB5026F5AA96619E9
                self.mt[i] = self.mt[(i + 156) % 312] ^ y
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK


def uniform_below(rng, bound):
    limit = MASK - (MASK % bound + 1) % bound
    r = rng()
    while r > limit:
        r = rng()
    return r % bound


def main():
    seed, n = int(sys.argv[1]), int(sys.argv[2])
    check = MT19937_64(5489)
    for _ in range(9999):
        check()
    assert check() == 9981545732273789042, "not the standard mt19937_64"
    rng = MT19937_64(seed)
    v = list(range(n))
    for i in range(n, 1, -1):
        j = uniform_below(rng, i)
        v[i - 1], v[j] = v[j], v[i - 1]
    print(", ".join(map(str, v)))


if __name__ == "__main__":
    main()
