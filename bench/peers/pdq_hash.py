#!/usr/bin/env python3
"""Hash images with the PyPI `pdqhash` package (Meta's C++ PDQ behind Python
bindings), decoding with Pillow, as python-threatexchange and HMA do.

Usage: pdq_hash.py [--dihedral] PATH...   (directories are walked; sorted by path)
Prints one JSON object a line: {"path", "pdq", "pdq_quality"[, "dihedral"]}.
"""
import json
import os
import sys

import numpy as np
import pdqhash
from PIL import Image


def bits_to_hex(bits):
    # pdqhash returns the bits most significant first.
    return "%064x" % int("".join(str(int(b)) for b in bits), 2)


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, names in os.walk(p):
                for n in names:
                    yield os.path.join(root, n)
        else:
            yield p


def main():
    args = sys.argv[1:]
    dihedral = "--dihedral" in args
    args = [a for a in args if a != "--dihedral"]
    for path in sorted(files(args)):
        img = Image.open(path)
        img.load()
        arr = np.asarray(img.convert("RGB"))
        bits, quality = pdqhash.compute(arr)
        rec = {"path": path, "pdq": bits_to_hex(bits), "pdq_quality": int(quality)}
        if dihedral:
            variants, _ = pdqhash.compute_dihedral(arr)
            rec["dihedral"] = [bits_to_hex(v) for v in variants]
        print(json.dumps(rec))


if __name__ == "__main__":
    main()
