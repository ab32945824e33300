#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets (fuzz/corpus/<target>).

Benign inputs only: the project's own test data (crates/*/tests/data,
testdata/) and small synthetic files made here (bundles of made-up accounts,
pictures of flat colour). Run again after changing a harness's input layout:
    /work/main/.venv/bin/python fuzz/seeds.py   (any Python 3 with Pillow)
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
SEP = b"\n#####\n"  # tiaki_fuzz::SEPARATOR

MANIFEST = {
    "format": "provider-report/1",
    "report_id": "R-1",
    "provider": {"name": "Acme File Share Ltd", "country": "NZ"},
    "created_at": "2019-10-14T03:00:00Z",
}
ACCOUNTS = (
    b'{"id": "u-1", "username": "kiwi_77", "created_at": "2018-02-01T10:00:00Z", '
    b'"emails": ["someone@example.co.nz"], "declared_country": "NZ", '
    b'"logins": [{"ip": "203.0.113.9", "at": "2019-10-02T11:00:00Z"}]}\n{"id": "u-2"}\n'
)
MEDIA = (
    b'{"id": "f-1", "account": "u-1", "file": "files/1.jpg", "hashes": {"md5": "'
    + b"0123456789abcdef" * 2
    + b'", "pdq": "'
    + b"f" * 64
    + b'"}}\n{"id": "f-2", "account": "u-2", "hashes": {"sha1": "'
    + b"ab" * 20
    + b'", "vpdq": ["'
    + b"f" * 64
    + b',100,0.000"]}}\n'
)
EVENTS = (
    b'{"type": "share", "from": "u-1", "to": ["u-2"], "media": "f-1", "at": "2019-10-03T09:13:00Z"}\n'
    b'{"type": "login", "account": "u-2", "ip": "198.51.100.7", "at": "2019-10-03T09:00:00Z"}\n'
)


def put(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def bundle_files():
    manifest = json.dumps(MANIFEST).encode()
    files = {
        "manifest.json": manifest,
        "accounts.ndjson": ACCOUNTS,
        "media.ndjson": MEDIA,
        "events.ndjson": EVENTS,
        "files/1.jpg": b"\xff\xd8\xff\xe0 stand-in",
    }
    with_sums = dict(MANIFEST)
    with_sums["files_sha256"] = {
        n: hashlib.sha256(files[n]).hexdigest() for n in ("accounts.ndjson", "media.ndjson")
    }
    return files, json.dumps(with_sums).encode()


def archives():
    files, summed = bundle_files()
    out = {}
    for name, prefix in (("root", ""), ("wrapped", "report/")):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for n, data in files.items():
                info = tarfile.TarInfo(prefix + n)
                info.size = len(data)
                info.mtime = 0
                t.addfile(info, io.BytesIO(data))
            link = tarfile.TarInfo(prefix + "files/link.jpg")
            link.type = tarfile.SYMTYPE
            link.linkname = "1.jpg"
            t.addfile(link)
        out[f"{name}.tar"] = buf.getvalue()
        out[f"{name}.tar.gz"] = gzip.compress(buf.getvalue(), mtime=0)
        if shutil.which("zstd"):
            out[f"{name}.tar.zst"] = subprocess.run(
                ["zstd", "-q", "-c"], input=buf.getvalue(), check=True, capture_output=True
            ).stdout
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in files.items():
                z.writestr(zipfile.ZipInfo(prefix + n, (1980, 1, 1, 0, 0, 0)), data)
        out[f"{name}.zip"] = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for n, data in dict(files, **{"manifest.json": summed}).items():
            z.writestr(zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)), data)
    out["checksummed-stored.zip"] = buf.getvalue()
    return out


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    for name, data in archives().items():
        put("bundle_archive", name, data)

    files, summed = bundle_files()
    parts = [files["manifest.json"], ACCOUNTS, MEDIA, EVENTS]
    put("bundle_files", "full", SEP.join(parts))
    put("bundle_files", "no-events", SEP.join(parts[:3]))
    put("bundle_files", "checksummed", SEP.join([summed, ACCOUNTS, MEDIA]))
    put("bundle_files", "bad-lines", SEP.join([
        files["manifest.json"],
        b'{"id": "u-1"}\n{"id": "u-2", "username": }\n[1]\n\xff\xfe\n',
        b'{"id": "f-1", "account": "nobody"}\n{"id": "f-2", "account": "u-1", "file": "../x"}\n',
    ]))

    ct = ROOT / "crates/intake/tests/data/cybertip"
    for f in sorted(ct.glob("report.*.xml")):
        put("cybertip_xml", f.name, f.read_bytes())
        put("cybertip_xml", f.name + "+details",
            f.read_bytes() + SEP + (ct / "fileDetails.all-fields.example.xml").read_bytes())

    data = ROOT / "crates/formats/tests/data"
    formats = ["vics", "icse-csv", "csv", "pdq-lines", "vpdq-text", "vpdq-json", "ncmec-xml"]
    detect = bytes([0x7F])
    samples = {
        "vics1.2": (data / "vics/nist-nsrl-caid-mpg.vics1.2.json").read_bytes(),
        "vics2.0": (data / "vics/synthetic.vics2.0-us.case-export.json").read_bytes(),
        "vics2.0-hashset": (data / "vics/synthetic.vics2.0-default.hashset.json").read_bytes(),
        "ncmec": (data / "ncmec/ncmec-hashsharing-v2.entries.example.xml").read_bytes(),
        "vpdq-text": (data / "vpdq/chair-20-sd-bar.seconds_per_hash_1.txt").read_bytes(),
        "pdq-lines": b"\n".join((data / "pdq/needles.txt").read_bytes().splitlines()[:8]) + b"\n",
        "vpdq-json": ('["%s,100,0.0", "%s,90,1.5"]' % ("ab" * 32, "cd" * 32)).encode(),
        "icse-csv": (
            "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;"
            "Series name;Number of submissions;File Available;Media Type;Baseline\n"
            + "%s;%s;;1;yes;no;t;S;2;y;Image;f\n" % ("ab" * 16, "cd" * 20)
        ).encode(),
        "csv": ("md5,sha1,sha256,category\n%s,%s,%s,1\n" % ("ab" * 16, "cd" * 20, "ef" * 32)).encode(),
    }
    for name, body in samples.items():
        put("hash_lists", name + ".detect", detect + body)
        forced = next((i for i, f in enumerate(formats) if name.startswith(f)), None)
        if name.startswith("vics"):
            forced = 0
        if name == "ncmec":
            forced = 6
        if forced is not None:
            put("hash_lists", name + ".forced", bytes([forced]) + body)
            put("hash_lists", name + ".forced-deleted", bytes([forced | 0x80]) + body)

    put("media_image", "small.jpg", (ROOT / "testdata/pdq/pdq/data/misc-images/small.jpg").read_bytes())
    from PIL import Image

    img = Image.new("RGB", (24, 16), (40, 120, 200))
    for x in range(24):
        img.putpixel((x, x % 16), (250, 250, 0))
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[0x0112] = 6  # Orientation
    exif[0x0131] = "seed generator"  # Software
    gps = {1: "S", 2: (41.0, 17.0, 0.0), 3: "E", 4: (174.0, 46.0, 0.0)}
    exif[0x8825] = gps
    for fmt, kwargs in (
        ("JPEG", {"quality": 70, "exif": exif.tobytes()}),
        ("PNG", {"exif": exif.tobytes()}),
        ("GIF", {}),
        ("BMP", {}),
        ("WEBP", {"quality": 50, "exif": exif.tobytes()}),
        ("TIFF", {"exif": exif.tobytes()}),
    ):
        buf = io.BytesIO()
        img.save(buf, fmt, **kwargs)
        put("media_image", "flat." + fmt.lower(), buf.getvalue())
    for mode in ("L", "LA", "P", "RGBA", "CMYK", "I;16"):
        buf = io.BytesIO()
        fmt = "TIFF" if mode in ("CMYK", "I;16") else "PNG"
        img.convert(mode if mode != "I;16" else "I").convert(mode).save(buf, fmt)
        put("media_image", f"mode-{mode.replace(';', '')}.{fmt.lower()}", buf.getvalue())

    def tar_of(entries):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
            for n, d in entries:
                info = tarfile.TarInfo(n)
                info.size = len(d)
                info.mtime = 0
                info.mode = 0o644
                t.addfile(info, io.BytesIO(d))
        return buf.getvalue()

    summary = b"<html><body>summary</body></html>"
    media = b"stand-in media bytes"
    pm = {
        "format": "tiaki-referral/1", "referral_id": "R-1", "country": "NZ",
        "agency": "Example Agency", "issuer": "Example Issuer",
        "created_at": "2021-03-01T00:00:00Z", "accounts": 1, "persons": 1, "media": 1,
        "files": {
            "summary.html": hashlib.sha256(summary).hexdigest(),
            "media/m1.bin": hashlib.sha256(media).hexdigest(),
        },
    }
    good = tar_of([("manifest.json", json.dumps(pm).encode()),
                   ("summary.html", summary), ("media/m1.bin", media)])
    put("referral_open", "plain-tar", b"\x00" + good)
    put("referral_open", "plain-tar-unlisted", b"\x00" + tar_of([
        ("manifest.json", json.dumps(pm).encode()), ("other.txt", b"x")]))
    put("referral_open", "age-file", b"\x01" + b"age-encryption.org/v1\n-> X25519 "
        + b"A" * 43 + b"\n" + b"B" * 43 + b"\n--- " + b"C" * 43 + b"\n" + b"\x00" * 64)
    put("referral_open", "minisig", b"\x02" + (
        "untrusted comment: tiaki referral package; check with: minisign -V -p issuer.pub -m FILE\n"
        "RUQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"
        "trusted comment: tiaki-referral id=R-1 country=NZ created_at=2021-03-01T00:00:00Z tar_sha256="
        + "0" * 64 + "\n" + "A" * 86 + "==\n").encode())


if __name__ == "__main__":
    main()
