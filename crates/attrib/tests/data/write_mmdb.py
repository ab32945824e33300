"""Writes test .mmdb files with the real `mmdb-writer` (PyPI 0.2.7, needs `netaddr`).

Usage: python write_mmdb.py NETWORKS.json OUT_DIR

NETWORKS.json is a list of {"network": "81.2.0.0/16", "country": "DE", "name": "Germany",
"layout": "country" | "registered_only" | "proxy" | "not_a_country"}.
Writes two databases from it:
  OUT_DIR/geoip2-country.mmdb  GeoIP2/GeoLite2-Country layout (country.iso_code,
                               registered_country.iso_code, traits.is_anonymous_proxy)
  OUT_DIR/ipinfo-lite.mmdb     IPinfo Lite layout (top-level country_code and country name)
"""
import json
import os
import sys

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def geoip2_record(n):
    country = {"iso_code": n["country"], "names": {"en": n["name"]}}
    layout = n["layout"]
    if layout == "registered_only":
        return {"registered_country": country}
    rec = {"country": country, "registered_country": country}
    if layout == "proxy":
        rec["traits"] = {"is_anonymous_proxy": True}
    return rec


def ipinfo_record(n):
    return {"country_code": n["country"], "country": n["name"], "continent": "Test"}


def main():
    networks = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    for fname, dbtype, make in [
        ("geoip2-country.mmdb", "GeoIP2-Country", geoip2_record),
        ("ipinfo-lite.mmdb", "ipinfo lite", ipinfo_record),
    ]:
        w = MMDBWriter(ip_version=6, database_type=dbtype, languages=["en"],
                       description="Tiaki synthetic test database", ipv4_compatible=True)
        for n in networks:
            w.insert_network(IPSet([n["network"]]), make(n))
        w.to_db_file(os.path.join(out, fname))


if __name__ == "__main__":
    main()
