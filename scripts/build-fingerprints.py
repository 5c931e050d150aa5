#!/usr/bin/env python3
"""Build data/fingerprints.tsv, the provider fingerprints embedded in dnswatch.

Inputs (offline):
  * data/reference/parking-and-sinkholes.tsv            (curated rows; keys T, MN, MI, MD, Mc:x, D, K:n, U, H, DI, S, G, B)
  * data/reference/sources/tma22-parking_services.json  (key T)
  * data/reference/sources/misp-parking-domain-ns.json  (key MN)
  * data/reference/sources/misp-parking-domain.json     (key MI)
  * data/reference/sources/misp-sinkholes.json          (key MS)
  * the tables EXTERNAL_* below: facts (names, addresses, operators) transcribed from public lists that are
    not in data/reference; each names its repository and commit (see data/README.md).

Usage: python3 scripts/build-fingerprints.py [--reference DIR] [--out data/fingerprints.tsv]
The output is deterministic; run it again after changing an input and commit the result.
"""
import argparse
import ipaddress
import json
import os
import re
import sys

CATEGORIES = ["sinkhole", "seizure", "parking", "marketplace", "placeholder", "regdefault"]
PARKED = {"parking", "marketplace", "placeholder"}

# --------------------------------------------------------------------------------------------------------------
# External public lists (not available offline in data/reference), transcribed with their commits.
# --------------------------------------------------------------------------------------------------------------

# S = mthcht/awesome-lists Lists/Domains/sinkholed_servers/sinkhole_ns_list.csv
#     @ c86d0b224de49a6ba39620c03a1a01b962d06486 (MIT). Operator attribution is ours (by the operator's domain).
EXTERNAL_S = {
    "ChangeIP": ["abuse-sinkhole.changeip.com"],
    "Arbor": ["arbor-sinkhole.net"],
    "ConfickerWG": ["conficker-sinkhole.com", "conficker-sinkhole.net", "conficker-sinkhole.org",
                    "ns.conficker-sinkhole.net"],
    "sinkhole.tech": ["http1.sinkhole.tech", "http2.sinkhole.tech", "http3.sinkhole.tech", "http4.sinkhole.tech",
                      "sinkhole-01.sinkhole.tech", "sinkhole-02.sinkhole.tech", "sinkhole.tech"],
    "seizure:FBI": ["ns1.fbi.seized.gov", "ns2.fbi.seized.gov"],
    "seizure:unknown": ["ns1.seizedservers.com", "ns2.seizedservers.com"],
    "SecurityScorecard": ["ns1.honeybot.us", "ns2.honeybot.us"],
    "Spamhaus/abuse.ch": ["ns1.sinkhole.ch", "ns2.sinkhole.ch", "ns3.sinkhole.ch", "ns4.sinkhole.ch",
                          "sl-reverse.com", "this-domain-is-sinkholed-by.abuse.ch"],
    "sinkhole.ru": ["ns1.sinkhole.ru", "ns2.sinkhole.ru", "ns3.sinkhole.ru"],
    "sinkhole.systems": ["ns1.sinkhole.systems"],
    "Zinkhole": ["ns1.suspended-domain.org", "ns2.suspended-domain.org", "suspended-domain.org"],
    "Torpig sinkhole": ["ns1.torpig-sinkhole.org", "ns2.torpig-sinkhole.org", "torpig-sinkhole.org"],
    "FraunhoferFKIE": ["ns3.sinkhole.caad.fkie.fraunhofer.de", "ns4.sinkhole.caad.fkie.fraunhofer.de"],
    "Georgia Tech": ["s01.snkhole.mal-ware.susp-nded.domain"],
    "Shadowserver": ["sc-a.sinkhole.shadowserver.org", "sc-b.sinkhole.shadowserver.org",
                     "sc-c.sinkhole.shadowserver.org", "sc-d.sinkhole.shadowserver.org",
                     "sinkhole-00.shadowserver.org", "sinkhole-01.shadowserver.org", "sinkhole-02.shadowserver.org",
                     "sinkhole-03.shadowserver.org", "sinkhole-04.shadowserver.org", "sinkhole.shadowserver.org"],
    "Farsight": ["sinkhole-iad1-1.cwg.fsi.io", "sinkhole-iad1-2.cwg.fsi.io"],
    "Blacklab.io": ["sinkhole.blacklab.io"],
    "blacklistthisdomain": ["sinkhole.blacklistthisdomain.com"],
    "CERT-UA": ["sinkhole.cert.gov.ua"],
    "CERT Polska": ["sinkhole.cert.pl"],
    "sinkhole.DK": ["sinkhole.dk"],
    "Gladtech": ["sinkhole.gladtech.net"],
    "Hyas": ["sinkhole.hyas.com"],
    "sinkhole.in": ["sinkhole.in"],
    "Kaspersky": ["sinkhole.kaspersky.com"],
    "SIDN Labs": ["sinkhole.sidnlabs.nl"],
    "Tiger Security": ["sinkhole.tigersecurity.pro"],
    "Microsoft DCU": ["ns911a.microsoftinternetsafety.net", "ns911b.microsoftinternetsafety.net"],
}

# G = grettir/malware-sinkholes malware_sinkholes.txt @ 560a9ed9bd4a7c5ec038b4ef4d76cc76ff9f9e99 (MIT).
# Per operator: the names in its header comment, then its addresses.
EXTERNAL_G = {
    "AnubisNetworks": (["anbtr.com"],
                       ["62.28.241.21", "89.185.44.100", "195.22.4.21", "195.22.26.192/26", "195.22.28.192/27",
                        "195.38.137.100", "195.157.15.100", "212.61.180.100"]),
    "Arbor": (["arbor-sinkhole.net"], ["23.253.126.58", "104.239.157.210"]),
    "Bitdefender": ([], ["5.2.189.251"]),
    "Blue Coat": (["sinkhole1.bc-gin.com"], ["54.208.168.113"]),
    "CERT Australia": ([], ["150.101.125.42"]),
    "CERT Polska": (["sinkhole.cert.pl"], ["148.81.111.64/26"]),
    "Check Point": ([], ["62.0.58.94"]),
    "CNCERT/CC": ([], ["221.8.69.25", "183.236.2.18"]),
    "SecureWorks CTU": ([], ["45.56.77.175"]),
    "Farsight": (["0xc0f1c3a5.com", "0xc0f1c3a5.net", "0xc0f1c3a5.org", "conficker-sinkhole.com",
                  "conficker-sinkhole.net", "conficker-sinkhole.org", "sinkhole-iad1-1.cwg.fsi.io",
                  "sinkhole-iad1-2.cwg.fsi.io"],
                 ["38.102.150.27", "38.102.150.28/31", "38.229.70.125", "104.244.14.252/31", "136.161.101.53",
                  "216.66.15.109"]),
    "FBI": ([], ["54.83.43.69"]),
    "FitSec": (["sinkhole.fitsec.com"], ["193.166.255.170/31"]),
    "Georgia Tech": (["dnspath.info", "dnspath.io", "s01.snkhole.mal-ware.susp-nded.domain", "sinkdns.org"],
                     ["23.92.16.214", "23.92.24.20", "23.239.17.167", "23.239.18.116", "45.79.141.164",
                      "50.116.57.116", "69.61.12.90", "85.159.211.21", "85.159.211.119", "96.126.112.224",
                      "106.186.21.174", "143.215.15.2", "143.215.130.42", "143.215.130.46", "166.78.144.80",
                      "178.79.159.82", "199.168.91.20", "212.71.250.4", "213.219.37.5"]),
    "InfoSec.jp": ([], ["58.158.177.102"]),
    "Kaspersky": (["sinkhole.kaspersky.com"], ["95.211.172.143", "128.199.34.140"]),
    "Torpig sinkhole": (["spyeye-sinkhole.org", "torpig-sinkhole.org"],
                        ["85.214.50.92", "85.214.83.150", "87.106.18.112", "87.106.18.116", "87.106.18.122",
                         "87.106.18.136", "87.106.18.141", "87.106.18.146", "87.106.190.153", "87.106.190.154",
                         "87.106.190.157", "87.106.190.163", "87.106.190.165", "87.106.190.167", "87.106.190.169",
                         "212.227.20.93", "212.227.20.116", "212.227.20.164", "212.227.252.198"]),
    "Microsoft DCU": ([], ["131.253.18.11", "131.253.18.12", "199.2.137.0/24", "204.95.99.0/24", "207.46.90.0/24"]),
    "Now-DNS": ([], ["158.69.201.47"]),
    "RSA Research": (["notasinkhole.com"],
                     ["67.205.153.100", "104.236.150.45", "104.236.158.189", "128.199.76.241", "128.199.108.0",
                      "159.203.210.188", "159.203.214.47", "192.241.211.14", "198.199.105.129", "209.249.180.243",
                      "209.249.180.246"]),
    "SecurityScorecard": (["honeybot.us"], ["208.100.26.234", "208.100.26.251"]),
    "Shadowserver": (["sinkhole-00.shadowserver.org", "sinkhole-01.shadowserver.org", "sinkhole-02.shadowserver.org",
                      "sinkhole-03.shadowserver.org", "sinkhole-04.shadowserver.org", "sc-a.sinkhole.shadowserver.org",
                      "sc-b.sinkhole.shadowserver.org", "sc-c.sinkhole.shadowserver.org",
                      "sc-d.sinkhole.shadowserver.org"],
                     ["5.79.71.205", "5.79.71.225", "50.21.181.152", "74.208.15.160", "74.208.64.145", "74.208.64.191",
                      "74.208.153.9", "85.17.31.82", "85.17.31.122", "87.106.20.192", "87.106.26.9", "87.106.34.1",
                      "87.106.86.28", "87.106.149.145", "87.106.149.153", "87.106.250.34", "87.106.253.18",
                      "178.162.203.202", "178.162.203.211", "178.162.203.226", "178.162.217.107", "184.105.192.2",
                      "213.165.83.176", "216.218.135.114", "216.218.185.162", "217.160.6.63"]),
    "SIDN Labs": (["sinkhole.sidnlabs.nl"], ["176.58.104.168"]),
    "Spamhaus/abuse.ch": (["sinkhole.ch", "this-domain-is-sinkholed-by.abuse.ch"],
                          ["146.148.120.173", "173.192.192.10", "192.42.116.41", "192.42.119.41", "198.98.120.157",
                           "199.231.211.108", "208.43.245.213"]),
    "Vicheck.ca": ([], ["54.248.229.24/31"]),
    "Wapack Labs": ([], ["23.253.46.64"]),
    "Zinkhole": (["suspended-domain.org", "zinkhole.org"], ["87.98.254.64", "151.80.78.61", "176.31.62.76/30"]),
}

# B = brakmic/Sinkholes Sinkholes_List.csv @ b78fcf3b001ebc7cfeae26fcb0ee895a66733731.
# (operator as listed, address or range, sinkhole host name from the Whois column when it is one).
EXTERNAL_B = [
    ("Anubis", "195.22.26.192/26", None),
    ("Arbor Networks ASERT", "23.253.126.58", "arbor-sinkhole.net"),
    ("Arbor Networks ASERT", "168.181.184.35", "arbor-sinkhole.net"),
    ("Blacklab.io", "67.215.255.139", "sinkhole.blacklab.io"),
    ("blacklistthisdomain", "106.187.96.49", "sinkhole.blacklistthisdomain.com"),
    ("blacklistthisdomain", "81.166.122.234", "sinkhole.blacklistthisdomain.com"),
    ("Botnet Hunter", "52.5.245.208", None),
    ("CERT Polska", "148.81.111.111", "sinkhole.cert.pl"),
    ("CERT Polska", "148.81.111.91", "sinkhole.cert.pl"),
    ("CERT Polska", "148.81.111.114", "sinkhole.cert.pl"),
    ("Conficker Working Group", "136.161.101.53", "conficker-sinkhole.com"),
    ("Dr. Web", "91.233.244.106", None),
    ("Endgame", "166.78.144.80", "s01.snkhole.mal-ware.susp-nded.domain"),
    ("Farsight", "104.244.12.0/22", "sinkhole-iad1-2.cwg.fsi.io"),
    ("FBI", "142.0.36.234", None),
    ("Fitsec", "193.166.255.171", None),
    ("Georgia Tech", "143.215.130.0/24", None),
    ("Georgia Tech", "198.61.227.6", None),
    ("Georgia Tech", "50.57.148.87", None),
    ("Gladtech", "74.200.48.169", "sinkhole.gladtech.net"),
    ("Helse CSIRT", "91.186.66.36", None),
    ("Hyas", "192.169.69.25", "sinkhole.hyas.com"),
    ("Kaspersky", "93.159.228.22", "sinkhole.kaspersky.com"),
    ("Kaspersky", "95.211.172.143", "sinkhole.kaspersky.com"),
    ("MalwareDomains", "139.146.167.25", None),
    ("Microsoft", "131.253.18.11-12", None),
    ("Microsoft", "199.2.137.0/24", None),
    ("Microsoft", "204.95.99.59", None),
    ("Microsoft", "207.46.90.0/24", None),
    ("PublicDomainRegistry", "109.74.196.143", None),
    ("PublicDomainRegistry", "50.116.56.144", None),
    ("PublicDomainRegistry", "50.116.32.177", None),
    ("PublicDomainRegistry", "178.79.190.156", None),
    ("Shadowserver", "87.106.24.200", "sinkhole-00.shadowserver.org"),
    ("Shadowserver", "87.106.26.9", "sinkhole-01.shadowserver.org"),
    ("Shadowserver", "74.208.64.145", "sinkhole-02.shadowserver.org"),
    ("Shadowserver", "74.208.64.191", "sinkhole-03.shadowserver.org"),
    ("Shadowserver", "74.208.164.166", "sinkhole-04.shadowserver.org"),
    ("Shadowserver", "212.227.55.84", "sinkhole.shadowserver.org"),
    ("Shadowserver", "74.208.15.160", "sinkhole.shadowserver.org"),
    ("Shadowserver", "74.208.15.97", "sinkhole.shadowserver.org"),
    ("Shadowserver", "87.106.250.34", "sinkhole.shadowserver.org"),
    ("Shadowserver", "87.106.86.28", "sinkhole.shadowserver.org"),
    ("SIDN Labs", "176.58.104.168", "sinkhole.sidnlabs.nl"),
    ("sinkhole.DK", "212.227.20.19", "sinkhole.dk"),
    ("sinkhole.in", "86.124.164.25", "sinkhole.in"),
    ("sinkhole.tech", "79.137.66.14", "http3.sinkhole.tech"),
    ("sinkhole.tech", "95.211.174.92", "sinkhole.tech"),
    ("sinkhole.tech", "144.217.254.3", "http4.sinkhole.tech"),
    ("sinkhole.tech", "217.182.172.139", "http1.sinkhole.tech"),
    ("sinkhole.tech", "144.217.74.156", "http2.sinkhole.tech"),
    ("SISRA / Abuse.ch", "104.155.11.149", "this-domain-is-sinkholed-by.abuse.ch"),
    ("Spamhaus", "208.43.245.213", "sl-reverse.com"),
    ("Spamhaus", "173.192.192.10", "sl-reverse.com"),
    ("Spamhaus", "199.231.211.108", "sl-reverse.com"),
    ("Spamhaus", "198.98.120.157", "sl-reverse.com"),
    ("Spamhaus", "192.42.116.41", "sl-reverse.com"),
    ("Spamhaus", "87.255.51.229", "sl-reverse.com"),
    ("Team Cymru", "38.102.150.29", "conficker-sinkhole.net"),
    ("Team Cymru", "38.229.70.125", "conficker-sinkhole.net"),
    ("Torpig-Sinkhole", "212.227.55.84", "torpig-sinkhole.org"),
    ("Torpig-Sinkhole", "87.106.240.162", "torpig-sinkhole.org"),
    ("Torpig-Sinkhole", "87.106.140.254", "torpig-sinkhole.org"),
    ("Torpig-Sinkhole", "87.106.141.15", "torpig-sinkhole.org"),
    ("Wapack Labs", "23.253.46.64", None),
    ("Zinkhole.org", "176.31.62.76", "suspended-domain.org"),
    ("Zinkhole.org", "178.32.140.251", "suspended-domain.org"),
    ("Zinkhole.org", "94.23.175.2", "suspended-domain.org"),
    ("OpenDNS", "146.112.61.104-110", None),
    ("infosec.jp", "58.158.177.102", None),
]
B_OPERATORS = {
    "Anubis": "AnubisNetworks", "Arbor Networks ASERT": "Arbor", "Conficker Working Group": "ConfickerWG",
    "Fitsec": "FitSec", "Microsoft": "Microsoft DCU", "SISRA / Abuse.ch": "Spamhaus/abuse.ch",
    "Spamhaus": "Spamhaus/abuse.ch", "Team Cymru": "TeamCymru/CWG", "Torpig-Sinkhole": "Torpig sinkhole",
    "Zinkhole.org": "Zinkhole", "OpenDNS": "Cisco Umbrella/OpenDNS", "infosec.jp": "InfoSec.jp",
}

# MD = MISP/misp-warninglists doc/manual_generated/parking-domains.md @ 09c312fcaa0456f7e3c20d75533370cc65aed4c3
# (CC0): the only MISP source that names the provider of a parking address.
EXTERNAL_MD = {
    "GoDaddy Parking": ["34.102.136.180"],
    "ParkingCrew/TeamInternet": ["185.53.177.20", "185.53.178.52", "185.53.178.54", "185.53.178.53"],
    "Sedo": ["217.160.95.94", "217.160.141.142", "64.190.63.111"],
    "GoDaddy CashParking": ["35.186.238.101"],
    "Gandi": ["217.70.184.38", "217.70.184.50"],
    "Namecheap parking": ["198.54.117.216", "198.54.117.211", "198.54.117.218", "198.54.117.210", "198.54.117.217",
                          "198.54.117.215", "198.54.117.212"],
    "Dan.com": ["3.64.163.50"],
    "domaintechnik": ["213.145.228.16"],
    "Uniregistry": ["52.128.23.153"],
    "Afternic": ["13.248.216.40", "75.2.26.18", "76.223.65.111"],
    "Markmonitor": ["93.191.168.52"],
    "HugeDomains.com": ["104.26.7.37", "104.26.6.37", "172.67.70.191"],
    "ParkLogic": ["50.28.32.8"],
    "Unattributed": ["95.217.58.108"],   # listed under the heading "subdomain"
    "name.com": ["91.195.240.94"],       # inside Sedo's 91.195.240.0/23: folded into Sedo
    "OVHcloud": ["213.186.33.5"],
    "dns.ws": ["64.70.19.98"],
}
MD_CATEGORY = {"Gandi": "placeholder", "OVHcloud": "placeholder", "Markmonitor": "placeholder",
               "HugeDomains.com": "marketplace", "Dan.com": "marketplace", "Afternic": "marketplace"}

# --------------------------------------------------------------------------------------------------------------
# TMA 2022 service keys → display names shared with the curated reference rows.
# --------------------------------------------------------------------------------------------------------------
TMA_NAMES = {
    "parkingcrew": "ParkingCrew/TeamInternet", "dancom": "Dan.com", "fabulous_directnic": "Fabulous/Directnic",
    "godaddy_parking": "GoDaddy Parking", "godaddy_cashparking": "GoDaddy CashParking", "sedo": "Sedo",
    "uniregistry": "Uniregistry", "bodis": "Bodis", "namecheap": "Namecheap parking", "above": "Above/Trellian",
    "domainsponsor_rookmedia": "DomainSponsor/RookMedia", "savcom": "Sav.com", "skenzo": "Skenzo",
    "voodoo": "Voodoo", "tucows": "Tucows", "afternic": "Afternic", "dynadot": "Dynadot parking",
    "parklogic": "ParkLogic", "namecheap_pending": "Namecheap (WHOIS pending)",
}
# TMA "mixed" services (parking and marketplace on the same infrastructure) are stored as parking.
TMA_TYPES = {"parking": "parking", "marketplace": "marketplace", "placeholder": "placeholder", "mixed": "parking"}

# MISP NS entries (registrable domains or host names) with no TMA pattern under them. Registrars' and hosters'
# default DNS are regdefault (not parking by themselves), per the caveat in sources/README.md.
MN_EXTRA = {
    "registrar-servers.com": ("regdefault", "Namecheap"),
    "dnsowl.com": ("regdefault", "NameSilo"),
    "name.com": ("regdefault", "Name.com"),
    "one.com": ("regdefault", "one.com"),
    "rzone.de": ("regdefault", "Strato"),
    "wordpress.com": ("regdefault", "WordPress.com"),
    "markmonitor.com": ("regdefault", "MarkMonitor"),
    "mijndomein.nl": ("regdefault", "Mijndomein"),
    "gname.net": ("regdefault", "Gname"),
    "freenom.com": ("regdefault", "Freenom"),
    "onlydomains.com": ("regdefault", "OnlyDomains"),
    "bookmyname.com": ("regdefault", "BookMyName"),
    "sedo.com": ("parking", "Sedo"),
    "day.biz": ("parking", "day.biz"),
    "parking1.ovh.net": ("placeholder", "OVHcloud"),
    "parking2.ovh.net": ("placeholder", "OVHcloud"),
    "park1.encirca.net": ("parking", "Encirca"),
    "park2.encirca.net": ("parking", "Encirca"),
    "parking.namecheap.com": ("parking", "Namecheap parking"),
    "parkingpage.namecheap.com": ("parking", "Namecheap parking"),
}


class Row:
    __slots__ = ("provider", "kind", "value", "category", "sources")

    def __init__(self, provider, kind, value, category, sources):
        self.provider, self.kind, self.value, self.category = provider, kind, value, category
        self.sources = list(sources)


class Table:
    def __init__(self):
        self.rows = []
        self.index = {}

    def add(self, provider, kind, value, category, sources):
        assert category in CATEGORIES, category
        key = (kind, value, "parked" if category in PARKED else category)
        row = self.index.get(key)
        if row is None:
            row = Row(provider, kind, value, category, [])
            self.index[key] = row
            self.rows.append(row)
        elif row.category == "parking" and category in ("marketplace", "placeholder"):
            row.category = category  # keep the finer subtype
        for s in sources:
            if s not in row.sources:
                row.sources.append(s)
        return row

    def address_rows(self, categories):
        out = []
        for r in self.rows:
            if r.kind in ("ip", "cidr") and r.category in categories:
                out.append((ipaddress.ip_network(r.value, strict=False), r))
        return out


def norm_name(s):
    return s.strip().lower().rstrip(".")


def sql_to_pattern(p):
    return norm_name(p.replace("%", "*"))


def address_kind(net):
    return "ip" if net.prefixlen == net.max_prefixlen else "cidr"


def address_value(net):
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def special_purpose(net):
    a = net.network_address
    return a.is_private or a.is_loopback or a.is_link_local or a.is_multicast or a.is_reserved or a.is_unspecified


def expand(text):
    """'131.253.18.11-12' → two /32 networks; otherwise one network."""
    m = re.fullmatch(r"(\d+\.\d+\.\d+\.)(\d+)-(\d+)", text)
    if m:
        return [ipaddress.ip_network(f"{m.group(1)}{i}") for i in range(int(m.group(2)), int(m.group(3)) + 1)]
    return [ipaddress.ip_network(text, strict=False)]


def add_address(table, provider, net, category, source, warnings):
    if special_purpose(net):
        warnings.append(f"skipped special-purpose {net} ({provider}, {source})")
        return
    table.add(provider, address_kind(net), address_value(net), category, [source])


def add_name(table, provider, name, category, source):
    """A name from a list: two-label names are registrable domains → the domain and everything below it."""
    name = norm_name(name)
    table.add(provider, "ns", name, category, [source])
    if name.count(".") == 1:
        table.add(provider, "ns", "*." + name, category, [source])


def split_provider(p):
    for prefix in ("regdefault", "sinkhole", "seizure"):
        if p.startswith(prefix + ":"):
            return p[len(prefix) + 1:], prefix
    return p, "parking"


def load_reference(table, path):
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    header = lines[0].split("\t")
    assert header == ["provider", "kind", "value", "source"], header
    for line in lines[1:]:
        provider, kind, value, source = line.split("\t")
        name, category = split_provider(provider)
        if kind == "ns":
            value = norm_name(value)
        elif kind == "asn":
            value = "AS" + value.upper().removeprefix("AS")
        table.add(name, kind, value, category, source.split(";"))


def load_tma(table, path):
    with open(path, encoding="utf-8") as f:
        services = json.load(f)
    patterns_by_domain = {}  # registrable domain → [(row)]
    for key, svc in services.items():
        provider = TMA_NAMES.get(key, svc["friendly_name"])
        category = TMA_TYPES[svc["type"]]
        for rtype, items in svc["record_types"].items():
            for item in items:
                if rtype in ("a", "aaaa"):
                    net = ipaddress.ip_network(item, strict=False)
                    table.add(provider, address_kind(net), address_value(net), category, ["T"])
                    continue
                kind = {"ns": "ns", "cname": "cname"}[rtype]
                if isinstance(item, str):
                    value = norm_name(item)
                elif "ilike" in item or "like" in item:
                    value = sql_to_pattern(item.get("ilike") or item.get("like"))
                elif item.get("regex") == r"pltraffic([0-9]+)\.com\.":
                    value = "pltraffic*.com"
                else:
                    raise SystemExit(f"unhandled TMA indicator {key}: {item}")
                row = table.add(provider, kind, value, category, ["T"])
                if kind == "ns":
                    domain = ".".join(value.split(".")[-2:])
                    patterns_by_domain.setdefault(domain, []).append(row)
                    if value.endswith(".expired.uniregistry-dns.com"):
                        patterns_by_domain.setdefault("expired.uniregistry-dns.com", []).append(row)
    return patterns_by_domain


def load_misp_ns(table, path, tma_by_domain, warnings):
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)["list"]
    for raw in entries:
        entry = norm_name(raw)
        existing = [r for r in table.rows if r.kind == "ns" and r.value in (entry, "*." + entry)]
        if entry in MN_EXTRA:
            category, provider = MN_EXTRA[entry]
            if entry.count(".") == 1:
                table.add(provider, "ns", "*." + entry, category, ["MN"])
            else:
                table.add(provider, "ns", entry, category, ["MN"])
        elif existing:
            for r in existing:
                if "MN" not in r.sources:
                    r.sources.append("MN")
        elif entry in tma_by_domain:
            # MISP reduced TMA's precise patterns to the registrable domain: it corroborates them, and the
            # broad form is not added (it would catch the same company's ordinary DNS).
            for r in tma_by_domain[entry]:
                if "MN" not in r.sources:
                    r.sources.append("MN")
        else:
            warnings.append(f"MISP NS entry without a rule: {entry}")


def attribute(net, candidates):
    """The provider of the most specific candidate row containing (or equal to) net."""
    best = None
    for cnet, row in candidates:
        if cnet.version == net.version and net.subnet_of(cnet):
            if best is None or cnet.prefixlen > best[0].prefixlen:
                best = (cnet, row)
    return best


def load_misp_addresses(table, path, source, categories, default_category, warnings):
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)["list"]
    for raw in entries:
        net = ipaddress.ip_network(raw, strict=False)
        candidates = table.address_rows(categories)
        hit = attribute(net, candidates)
        if hit and hit[0] == net:
            if source not in hit[1].sources:
                hit[1].sources.append(source)
        elif hit:
            continue  # inside a range already listed for that provider: folded into it
        else:
            # A listed range that contains known rows takes their provider if they all agree.
            inside = {row.provider for cnet, row in candidates if cnet.version == net.version and cnet.subnet_of(net)}
            provider = inside.pop() if len(inside) == 1 else "Unattributed"
            add_address(table, provider, net, default_category, source, warnings)


def build(ref):
    src = os.path.join(ref, "sources")
    table = Table()
    warnings = []
    load_reference(table, os.path.join(ref, "parking-and-sinkholes.tsv"))
    tma_by_domain = load_tma(table, os.path.join(src, "tma22-parking_services.json"))
    # Sinkhole lists: name servers and addresses per operator.
    for operator, names in EXTERNAL_S.items():
        provider, category = split_provider(operator)
        category = category if category != "parking" else "sinkhole"
        for n in names:
            add_name(table, provider, n, category, "S")
    for provider, (names, addresses) in EXTERNAL_G.items():
        for n in names:
            add_name(table, provider, n, "sinkhole", "G")
        for a in addresses:
            add_address(table, provider, ipaddress.ip_network(a, strict=False), "sinkhole", "G", warnings)
    for operator, value, host in EXTERNAL_B:
        provider = B_OPERATORS.get(operator, operator)
        for net in expand(value):
            add_address(table, provider, net, "sinkhole", "B", warnings)
        if host:
            add_name(table, provider, host, "sinkhole", "B")
    load_misp_addresses(table, os.path.join(src, "misp-sinkholes.json"), "MS", {"sinkhole", "seizure"},
                        "sinkhole", warnings)
    # Parking: MISP name servers and addresses, then the attributed addresses of the MISP documentation.
    load_misp_ns(table, os.path.join(src, "misp-parking-domain-ns.json"), tma_by_domain, warnings)
    for provider, addresses in EXTERNAL_MD.items():
        for a in addresses:
            net = ipaddress.ip_network(a)
            hit = attribute(net, table.address_rows(PARKED))
            if hit and hit[0] == net:
                if "MD" not in hit[1].sources:
                    hit[1].sources.append("MD")
            elif hit:
                continue
            else:
                add_address(table, provider, net, MD_CATEGORY.get(provider, "parking"), "MD", warnings)
    load_misp_addresses(table, os.path.join(src, "misp-parking-domain.json"), "MI", PARKED, "parking", warnings)
    # One subtype per provider: rows of a provider that TMA classes marketplace/placeholder take that subtype.
    tma_subtype = {}
    for r in table.rows:
        if "T" in r.sources and r.category in PARKED:
            tma_subtype.setdefault(r.provider, set()).add(r.category)
    for r in table.rows:
        kinds = tma_subtype.get(r.provider, set())
        if r.category == "parking" and len(kinds) == 1 and kinds != {"parking"}:
            r.category = next(iter(kinds))
    return table, warnings


ORDER = {c: i for i, c in enumerate(CATEGORIES)}
KIND_ORDER = {"ns": 0, "cname": 1, "asn": 2, "cidr": 3, "ip": 4}


def sort_key(r):
    address = (0, 0, 0)
    if r.kind in ("ip", "cidr"):
        net = ipaddress.ip_network(r.value, strict=False)
        address = (net.version, int(net.network_address), net.prefixlen)
    return (ORDER[r.category], r.provider.lower(), KIND_ORDER[r.kind], address, r.value)


HEADER = """\
# dnswatch provider fingerprints. GENERATED by scripts/build-fingerprints.py; provenance in data/README.md.
# Columns (tab-separated): provider, kind, value, category, source.
#   kind: ns (name-server name pattern) | cname (CNAME target pattern) | ip | cidr | asn
#   category: parking | marketplace | placeholder (all three: class parked) | sinkhole | seizure (class sinkhole)
#             | regdefault (registrar default name servers: NOT parking)
#   patterns: exact name, a leading '*.' (any name strictly below), or '*' inside a label (any characters
#             within that one label), e.g. ns*.parkingcrew.net
#   source: ';'-separated public source keys (data/README.md)
"""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", default=os.path.join(root, "data", "reference"))
    ap.add_argument("--out", default=os.path.join(root, "data", "fingerprints.tsv"))
    args = ap.parse_args()
    table, warnings = build(args.reference)
    rows = sorted(table.rows, key=sort_key)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("provider\tkind\tvalue\tcategory\tsource\n")
        for r in rows:
            f.write(f"{r.provider}\t{r.kind}\t{r.value}\t{r.category}\t{';'.join(r.sources)}\n")
    for w in warnings:
        print("warning:", w, file=sys.stderr)
    counts = {}
    for r in rows:
        counts[r.category] = counts.get(r.category, 0) + 1
    print(f"{len(rows)} entries → {args.out}: " + ", ".join(f"{c} {counts.get(c, 0)}" for c in CATEGORIES))


if __name__ == "__main__":
    main()
