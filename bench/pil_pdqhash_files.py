#!/usr/bin/env python3
"""The peer for `tiaki hash` throughput: Pillow decode + `pdqhash`, over all
cores with multiprocessing. Usage: pil_pdqhash_files.py DIR [WORKERS]
Prints {"files": N, "seconds": S, "files_per_second": F}."""
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
import pdqhash
from PIL import Image


def one(path):
    img = Image.open(path)
    bits, q = pdqhash.compute(np.asarray(img.convert("RGB")))
    return q


if __name__ == "__main__":
    d = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    paths = sorted(os.path.join(d, f) for f in os.listdir(d))
    t = time.perf_counter()
    with Pool(workers) as pool:
        list(pool.imap_unordered(one, paths, chunksize=8))
    s = time.perf_counter() - t
    print(json.dumps({"files": len(paths), "seconds": round(s, 3), "files_per_second": round(len(paths) / s, 1)}))
