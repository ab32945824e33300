#!/usr/bin/env python3
"""Writes N photo-like JPEGs made from the benign reference photos (crops,
scales, flips, brightness and colour shifts, varied sizes and qualities).
Usage: make_photos.py OUT_DIR [N=1000]"""
import os
import random
import sys

from PIL import Image, ImageEnhance

ROOT = os.path.join(os.path.dirname(__file__), "..", "testdata", "pdq")
SOURCES = [
    "pdq/data/bridge-mods/aaa-orig.jpg",
    "pdq/data/reg-test-input/pen-and-coaster.png",
    "pdq/data/misc-images/c.png",
    "python-threatexchange/threatexchange/tests/hashing/resources/rgb.jpeg",
]

out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000
os.makedirs(out, exist_ok=True)
rng = random.Random(1234)
bases = [Image.open(os.path.join(ROOT, s)).convert("RGB") for s in SOURCES]
for i in range(n):
    img = rng.choice(bases)
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.5, 1.0)), int(h * rng.uniform(0.5, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    im = img.crop((x, y, x + cw, y + ch))
    target = rng.choice([(1600, 1200), (1280, 960), (1024, 768), (2048, 1536), (800, 600), (1200, 1600)])
    im = im.resize(target, Image.BILINEAR)
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.7, 1.3))
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.5, 1.5))
    im.save(os.path.join(out, f"photo-{i:04d}.jpg"), quality=rng.choice([80, 85, 90, 95]))
