#!/usr/bin/env python3
"""The peer for Tiaki's vPDQ tests and benchmark: Meta's `vpdq` package
(Cython over the C++ reference, linked to the system's libav*) and, when
installed, python-threatexchange's matcher.

    vpdq_peer.py hash FILE [--every S]          reference text lines
    vpdq_peer.py compare A B [--every S]        py-tx comparison as JSON; A and B
                                                are videos, or .txt files of
                                                `hash` output
    vpdq_peer.py time [--every S] FILE...       "name<TAB>seconds<TAB>hashes"

Install: pip install vpdq threatexchange   (vpdq builds from source and needs
libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavdevice-dev
libavfilter-dev libswresample-dev pkg-config).
"""
import argparse
import json
import sys
import time

import vpdq

try:  # python-threatexchange's own matcher, when installed
    from threatexchange.extensions.vpdq.vpdq_brute_matcher import match_VPDQ_hash_brute
    from threatexchange.extensions.vpdq.vpdq_util import (
        VpdqCompactFeature,
        VPDQ_QUALITY_THRESHOLD,
        VPDQ_DISTANCE_THRESHOLD,
        VPDQ_QUERY_MATCH_THRESHOLD_PERCENT,
        VPDQ_INDEX_MATCH_THRESHOLD_PERCENT,
    )

    MATCHER = "threatexchange"
except ImportError:  # a line-for-line copy of vpdq_brute_matcher.py
    MATCHER = "copy-of-threatexchange"
    VPDQ_QUALITY_THRESHOLD = 50
    VPDQ_DISTANCE_THRESHOLD = 31
    VPDQ_QUERY_MATCH_THRESHOLD_PERCENT = 80.0
    VPDQ_INDEX_MATCH_THRESHOLD_PERCENT = 0.0

    class VpdqCompactFeature:
        def __init__(self, pdq_hex, quality, timestamp):
            self.pdq_hex, self.quality, self.timestamp = pdq_hex, quality, timestamp

        @classmethod
        def from_vpdq_feature(cls, f):
            return cls(f.hex, f.quality, f.timestamp)

    class _R:
        def __init__(self, q, c):
            self.query_match_percent, self.compared_match_percent = q, c

    def _dist(a, b):
        return bin(int(a, 16) ^ int(b, 16)).count("1")

    def _dedupe(fs):
        seen, ret = set(), []
        for h in fs:
            if h.pdq_hex not in seen:
                ret.append(h)
                seen.add(h.pdq_hex)
        return ret

    def _count(a, b, d):
        return sum(any(_dist(x.pdq_hex, y.pdq_hex) <= d for y in b) for x in a)

    def match_VPDQ_hash_brute(query, compared, quality, distance):
        fq = [f for f in _dedupe(query) if f.quality >= quality]
        fc = [f for f in _dedupe(compared) if f.quality >= quality]
        return _R(_count(fq, fc, distance) * 100 / len(fq), _count(fc, fq, distance) * 100 / len(fc))


def features(path, every):
    return vpdq.computeHash(str(path), seconds_per_hash=every)


def compact(path, every):
    """py-tx compact features of a video, or of a saved `hash` output."""
    if str(path).endswith(".txt"):
        out = []
        with open(path) as f:
            for line in f:
                if line.strip():
                    _frame, quality, hex_, ts = line.strip().split(",")
                    out.append(VpdqCompactFeature(hex_, int(quality), float(ts)))
        return out
    return [VpdqCompactFeature.from_vpdq_feature(f) for f in features(path, every)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["hash", "compare", "time"])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--every", type=float, default=1.0)
    a = ap.parse_args()
    if a.cmd == "hash":
        for f in features(a.files[0], a.every):
            print(f"{f.frame_number},{f.quality},{f.hex},{f.timestamp:.3f}")
    elif a.cmd == "compare":
        q = compact(a.files[0], a.every)
        c = compact(a.files[1], a.every)
        r = match_VPDQ_hash_brute(q, c, VPDQ_QUALITY_THRESHOLD, VPDQ_DISTANCE_THRESHOLD)
        print(json.dumps({
            "matcher": MATCHER,
            "query_match_percent": r.query_match_percent,
            "compared_match_percent": r.compared_match_percent,
            "is_match": r.query_match_percent >= VPDQ_QUERY_MATCH_THRESHOLD_PERCENT
            and r.compared_match_percent >= VPDQ_INDEX_MATCH_THRESHOLD_PERCENT,
        }))
    else:
        for path in a.files:
            t0 = time.perf_counter()
            n = len(features(path, a.every))
            print(f"{path}\t{time.perf_counter() - t0:.3f}\t{n}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
