#!/usr/bin/env python3
"""Times the PyPI `pdqhash` package (Meta's C++ PDQ) on raw RGB pixels.
Usage: pdq_peer_time.py FILE.rgb WIDTH HEIGHT ITERATIONS"""
import json
import sys
import time

import numpy as np
import pdqhash

path, w, h, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
arr = np.fromfile(path, dtype=np.uint8).reshape(h, w, 3)
bits, q = pdqhash.compute(arr)
times = []
for _ in range(n):
    t = time.perf_counter()
    pdqhash.compute(arr)
    times.append((time.perf_counter() - t) * 1e3)
times.sort()
print(json.dumps({"pdq": "%064x" % int("".join(str(int(b)) for b in bits), 2), "quality": int(q),
                  "best_ms": round(times[0], 4), "median_ms": round(times[len(times) // 2], 4)}))
