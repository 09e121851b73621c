"""The lab driver's judge: reads what rdsports, nft, ss and nmap wrote, and decides.

lab/run.sh runs the commands; this script only reads files and prints one line per assertion
("ok ..." or "FAIL ...") and a count, and exits 1 when an assertion failed. It never touches
the network.

    labtool.py attribute  --ruleset R.json --plan P.json --hosts H.json --chain forward|input [--host N]
    labtool.py checks     --plan P.json --hosts H.json --listen L.json --expect E.json CHECK.json...
    labtool.py nmap       --hosts H.json --checks CHECK.json... --xml X.xml...
    labtool.py sample     --plan P.json --hosts H.json --listen L.json --pairs PAIRS
    labtool.py blocked    --sample S.json --baseline X.xml... --xml X.xml...
    labtool.py listen     SS-OUTPUT...          (ss -Hlntup per namespace -> listeners JSON)
    labtool.py mutate     --ruleset R.json --hosts H.json --attrib A.json --remove F,T,P,N --reject F,T,P,N
                          [--shadow F,T,P,N] [--broad PROTO,PORT] --commands OUT [--audit-expect OUT]
    labtool.py audit      --audit A.json --boundary Z1:Z2|--host H --plan P.json [--rules N] [--expect X.json] [--checks CHECK.json...]
    labtool.py targets    [--check CHECK.json] [--sample S.json --src-ns NS] [--to HOST]
    labtool.py sweep      --plan P.json --hosts H.json --pairs PAIRS --xml X.xml...

Verdict vocabulary: rdsports check says open/refused/filtered (TCP) and open/closed/
open|filtered (UDP); nmap says open/closed/filtered and open|filtered. They agree when:
TCP open=open, refused=closed, filtered=filtered; UDP closed=closed; a UDP `open` or
`open|filtered` on one side agrees with `open` or `open|filtered` on the other (a silent UDP
service gives no answer to a probe it does not understand, and nmap's payloads differ from
rdsports's), but never with `closed`.
"""
import argparse
import ipaddress
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

PASSED = 0
FAILED = 0


def ok(msg):
    global PASSED
    PASSED += 1
    if VERBOSE:
        print("  ok    " + msg)


def fail(msg):
    global FAILED
    FAILED += 1
    print("  FAIL  " + msg)


def note(msg):
    print("  note  " + msg)


def load(path):
    with open(path) as f:
        return json.load(f)


def port_range(text):
    """'N' or 'N-M' -> (N, M)."""
    a, _, b = str(text).partition("-")
    return int(a), int(b or a)


# ----------------------------------------------------------------------------- nft evaluator
# Enough of nft's JSON (`nft -j list ruleset`) to say which rule of a generated chain decides a
# packet: ip saddr/daddr against addresses, prefixes, ranges and named sets; meta l4proto;
# tcp/udp/th dport against values, ranges and anonymous sets; iif/iifname "lo"; ct state.


class Nft:
    def __init__(self, doc, table="rdsports"):
        self.sets = {}
        self.rules = {}
        for item in doc.get("nftables", []):
            if "set" in item and item["set"].get("table") == table:
                s = item["set"]
                self.sets[s["name"]] = [self._elem(e) for e in s.get("elem", [])]
            if "rule" in item and item["rule"].get("table") == table:
                r = item["rule"]
                self.rules.setdefault(r["chain"], []).append(r)

    @staticmethod
    def _elem(e):
        if isinstance(e, dict) and "elem" in e:
            e = e["elem"]["val"]
        if isinstance(e, dict) and "prefix" in e:
            return ("net", ipaddress.ip_network("%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"]), strict=False))
        if isinstance(e, dict) and "range" in e:
            a, b = e["range"]
            if isinstance(a, int):
                return ("range", a, b)
            return ("addrs", ipaddress.ip_address(a), ipaddress.ip_address(b))
        if isinstance(e, int):
            return ("range", e, e)
        return ("net", ipaddress.ip_network(e, strict=False))

    def _in(self, value, right):
        """value (int port or ip_address) against a match's right-hand side."""
        if isinstance(right, str) and right.startswith("@"):
            elems = self.sets.get(right[1:], [])
        elif isinstance(right, dict) and "set" in right:
            elems = [self._elem(e) for e in right["set"]]
        elif isinstance(right, list):
            elems = [self._elem(e) for e in right]
        else:
            elems = [self._elem(right)]
        for e in elems:
            if e[0] == "net" and not isinstance(value, int) and value in e[1]:
                return True
            if e[0] == "range" and isinstance(value, int) and e[1] <= value <= e[2]:
                return True
            if e[0] == "addrs" and not isinstance(value, int) and e[1] <= value <= e[2]:
                return True
        return False

    def decide(self, chain, src, dst, proto, port):
        """(rule comment or '', verdict) of the first terminal rule the packet meets: a new
        connection from src to dst:port/proto entering through eth0/a router leg."""
        for rule in self.rules.get(chain, []):
            matched = True
            verdict = None
            for e in rule.get("expr", []):
                if "match" in e:
                    m = e["match"]
                    left, right, op = m["left"], m["right"], m.get("op", "==")
                    if "payload" in left:
                        p = left["payload"]
                        field = p.get("field")
                        proto_name = p.get("protocol")
                        if field in ("saddr", "daddr") and proto_name == "ip":
                            v = ipaddress.ip_address(src if field == "saddr" else dst)
                            hit = self._in(v, right)
                        elif field == "dport" and proto_name in ("tcp", "udp", "th"):
                            hit = (proto_name in ("th", proto)) and self._in(port, right)
                        elif proto_name in ("icmp", "icmpv6"):
                            hit = False
                        else:
                            raise SystemExit("labtool: unknown nft match %s" % json.dumps(m))
                    elif "meta" in left and left["meta"]["key"] == "l4proto":
                        names = right["set"] if isinstance(right, dict) and "set" in right else [right]
                        hit = proto in names
                    elif "meta" in left and left["meta"]["key"] in ("iif", "iifname", "oif", "oifname"):
                        hit = right != "lo"  # traffic under test never comes from lo
                    elif "ct" in left and left["ct"]["key"] == "state":
                        states = right if isinstance(right, list) else [right]
                        hit = "new" in states
                    else:
                        raise SystemExit("labtool: unknown nft match %s" % json.dumps(m))
                    if op == "!=":
                        hit = not hit
                    if not hit:
                        matched = False
                        break
                elif "accept" in e:
                    verdict = "accept"
                elif "drop" in e:
                    verdict = "drop"
                elif "reject" in e:
                    verdict = "reject"
                elif "jump" in e or "goto" in e:
                    raise SystemExit("labtool: jumps are not evaluated")
            if matched and verdict:
                return rule.get("comment", ""), verdict
        return "(policy)", "policy"


def cmd_attribute(a):
    """For each planned flow port the chain sees, which rule decides it."""
    nft = Nft(load(a.ruleset))
    hosts = load(a.hosts)
    plan = load(a.plan)
    out = []
    for f in plan["flows"]:
        if a.chain == "forward" and f["from_zone"] == f["to_zone"]:
            continue
        if a.host and f["to"] != a.host:
            continue
        lo, hi = port_range(f["ports"])
        for port in range(lo, hi + 1):
            comment, verdict = nft.decide(a.chain, hosts[f["from"]]["address"], hosts[f["to"]]["address"],
                                          f["protocol"], port)
            out.append({"from": f["from"], "to": f["to"], "protocol": f["protocol"], "port": port,
                        "rule": comment, "verdict": verdict})
    json.dump(out, sys.stdout, indent=1)
    print()


# ----------------------------------------------------------------------------- listeners (ss)
def cmd_listen(a):
    """`ss -Hlntup` outputs (files named NS.txt) -> {ns: {"tcp/88": ["samba", ...]}}."""
    res = {}
    for path in a.files:
        ns = re.sub(r"^.*/|\.txt$", "", path)
        d = res.setdefault(ns, {})
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 5:
                    continue
                proto = parts[0]
                local = parts[4]
                port = local.rsplit(":", 1)[-1]
                if not port.isdigit():
                    continue
                addr = local.rsplit(":", 1)[0].strip("[]")
                if addr.startswith("127.") or addr == "::1":
                    continue
                procs = sorted(set(re.findall(r'\("([^"]+)"', line)))
                key = "%s/%s" % (proto, port)
                d[key] = sorted(set(d.get(key, []) + procs))
    json.dump(res, sys.stdout, indent=1, sort_keys=True)
    print()


def real_server(listen, ns, proto, port):
    """Process names of a real (non-rdsports) server on the port, or []."""
    procs = listen.get(ns, {}).get("%s/%d" % (proto, port), [])
    return [p for p in procs if not p.startswith("rdsports")]


# ----------------------------------------------------------------------------- check results
def epm_ports(results, to):
    """TCP ports the endpoint mapper of host `to` advertised in this check's results."""
    ports = set()
    for r in results:
        if r["to"] == to and r["protocol"] == "tcp" and r["port"] == 135:
            ports.update(p for p in (r.get("detail") or {}).get("tcp_ports", []) if isinstance(p, int))
    return ports


def cmd_checks(a):
    """Every planned flow of each source is in the results with the expected verdict (open,
    or what --expect says for a mutated rule), identified as the expected service where a
    real server listens; the exit status matches."""
    plan = load(a.plan)
    hosts = load(a.hosts)
    listen = load(a.listen)
    proven = {}
    if a.proven:
        for e in load(a.proven):
            proven[(e["from"], e["to"], e["protocol"], e["ports"])] = e["how"]
    expect = {}
    if a.expect:
        for e in load(a.expect):
            expect[(e["from"], e["to"], e["protocol"], e["port"])] = e["verdict"]
    for path in a.files:
        doc = load(path)
        src = doc.get("from")
        rc_path = path[:-len(".json")] + ".rc"
        try:
            rc = int(open(rc_path).read().strip())
        except (OSError, ValueError):
            rc = None
        if doc.get("schema_version") not in (1, 2, 3):
            fail("%s: schema_version %r, want 1 to 3" % (path, doc.get("schema_version")))
            continue
        results = doc.get("results", [])
        flows = [f for f in plan["flows"] if f["from"] == src]
        if a.to:
            flows = [f for f in flows if f["to"] == a.to]
            results = [r for r in results if r["to"] == a.to]
        counts = {}
        identified = listeners = 0
        all_open = True
        for f in flows:
            lo, hi = port_range(f["ports"])
            rs = [r for r in results if r["to"] == f["to"] and r["protocol"] == f["protocol"]
                  and lo <= r["port"] <= hi]
            label = "%s -> %s %s/%s %s" % (src, f["to"], f["protocol"], f["ports"], f["service"])
            if not rs:
                np = [n for n in doc.get("not_probed", []) if n["to"] == f["to"]
                      and n["protocol"] == f["protocol"]]
                why = "; ".join(n["reason"] for n in np) or "no result"
                how = proven.get((src, f["to"], f["protocol"], f["ports"]))
                if np and how:
                    ok("%s: not probed by check (%s); the lab proved it open: %s" % (label, why, how))
                    if not VERBOSE:
                        print("  ok    %s: %s" % (label, how))
                else:
                    fail("%s: not probed (%s)" % (label, why))
                    all_open = False
                continue
            for r in rs:
                want = expect.get((src, r["to"], r["protocol"], r["port"]), "open")
                got = r["verdict"]
                counts[got] = counts.get(got, 0) + 1
                if got != "open":
                    all_open = False
                ns = hosts[r["to"]]["ns"]
                real = real_server(listen, ns, r["protocol"], r["port"])
                where = ("%s on %s/%d" % (",".join(real), r["protocol"], r["port"])) if real else \
                    ("listener on %s/%d" % (r["protocol"], r["port"]))
                line = "%s -> %s %s/%d: %s (%s)" % (src, r["to"], r["protocol"], r["port"], got, where)
                if got != want:
                    fail("%s, expected %s%s" % (line, want,
                                                 ("; " + r["reason"]) if r.get("reason") else ""))
                    continue
                if want == "open" and real:
                    exp = r.get("expected_service") or f["service"]
                    # check says whether what it found is what the flow expects (ldap on a
                    # gc port, http over TLS on an https port); older output: compare names
                    matches = r.get("service_matches", r.get("service") == exp)
                    # check probes the ports an endpoint mapper advertises with a plain
                    # connect: the map itself (the 135 result's tcp_ports) says they are RPC
                    if matches is not True and exp == "msrpc" and r.get("service") is None \
                            and r["port"] in epm_ports(results, r["to"]):
                        ok("%s identified as msrpc by the endpoint mapper's map" % line)
                        identified += 1
                        continue
                    if matches is not True:
                        fail("%s: identified as %r, expected %r%s" % (
                            line, r.get("service"), exp, ("; " + r["note"]) if r.get("note") else ""))
                        continue
                    ok("%s identified as %s" % (line, r.get("service")))
                    identified += 1
                else:
                    ok(line)
                    if not real and got == "open":
                        listeners += 1
        want_rc = 0 if all_open else 1
        if rc is not None:
            if rc == want_rc:
                ok("%s: exit status %d" % (src, rc))
            else:
                fail("%s: exit status %d, expected %d" % (src, rc, want_rc))
        print("  %-8s %s (real servers identified: %d, rdsports listeners: %d)" % (
            src, ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items())) or "no results",
            identified, listeners))


# ----------------------------------------------------------------------------- nmap
def nmap_states(paths):
    """{(source ns, address, proto, port): state} from nmap XML files named
    nmap-NS-ADDRESS-PROTO.xml (NS: the namespace nmap ran in), extraports included."""
    res = {}
    for path in paths:
        m = re.search(r"nmap-([a-z0-9]+)-[0-9a-z.]+-(tcp|udp)\.xml$", path)
        if not m:
            fail("nmap output %s: name is not nmap-NS-ADDRESS-PROTO.xml" % path)
            continue
        ns = m.group(1)
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as e:
            fail("nmap output %s unreadable: %s" % (path, e))
            continue
        for host in root.findall("host"):
            addr = host.find("address").get("addr")
            ports = host.find("ports")
            if ports is None:
                continue
            for p in ports.findall("port"):
                res[(ns, addr, p.get("protocol"), int(p.get("portid")))] = p.find("state").get("state")
            for x in ports.findall("extraports"):
                state = x.get("state")
                for r in x.findall("extrareasons"):
                    proto = r.get("proto")
                    for part in (r.get("ports") or "").split(","):
                        if not part:
                            continue
                        lo, hi = port_range(part)
                        for port in range(lo, hi + 1):
                            res[(ns, addr, proto, port)] = state
    return res


AGREE = {
    ("tcp", "open"): {"open"},
    ("tcp", "refused"): {"closed"},
    ("tcp", "filtered"): {"filtered"},
    ("udp", "closed"): {"closed"},
    ("udp", "open"): {"open", "open|filtered"},
    ("udp", "open|filtered"): {"open", "open|filtered"},
}


def cmd_nmap(a):
    nm = nmap_states(a.xml)
    hosts = load(a.hosts)
    for path in a.checks:
        doc = load(path)
        src = doc.get("from")
        n = 0
        for r in doc.get("results", []):
            key = (hosts[src]["ns"], r["address"], r["protocol"], r["port"])
            label = "%s -> %s %s/%d" % (src, r["to"], r["protocol"], r["port"])
            if key not in nm:
                fail("%s: nmap did not report this port" % label)
                continue
            want = AGREE.get((r["protocol"], r["verdict"]), set())
            if nm[key] in want:
                ok("%s: rdsports %s, nmap %s" % (label, r["verdict"], nm[key]))
                n += 1
            else:
                fail("%s: rdsports says %s, nmap says %s" % (label, r["verdict"], nm[key]))
        print("  %-8s nmap agrees on %d of %d ports" % (src, n, len(doc.get("results", []))))


# ----------------------------------------------------------------------------- unplanned ports
EXTRA_TCP = [22, 23, 25, 80, 110, 443, 445, 1433, 3268, 3389, 3390, 5985, 5986, 8080, 9389, 49152]
EXTRA_UDP = [53, 67, 123, 161, 500, 1434, 3389, 3391, 5355]


def cmd_sample(a):
    """Ports no flow of SRC->DST needs, per pair: everything that listens on DST (real
    servers and rdsports listeners) plus a fixed list; pairs are 'srcns:dsthost,...'."""
    plan = load(a.plan)
    hosts = load(a.hosts)
    listen = load(a.listen)
    by_ns = {v["ns"]: k for k, v in hosts.items()}
    out = []
    for pair in a.pairs.split(","):
        sns, dst = pair.split(":")
        src = by_ns[sns]
        planned = set()
        for f in plan["flows"]:
            if f["from"] == src and f["to"] == dst:
                lo, hi = port_range(f["ports"])
                planned.update((f["protocol"], p) for p in range(lo, hi + 1))
        cand = {("tcp", p) for p in EXTRA_TCP} | {("udp", p) for p in EXTRA_UDP}
        for key in listen.get(hosts[dst]["ns"], {}):
            proto, port = key.split("/")
            cand.add((proto, int(port)))
        for proto, port in sorted(cand - planned):
            out.append({"src_ns": sns, "from": src, "to": dst, "address": hosts[dst]["address"],
                        "protocol": proto, "port": port})
    json.dump(out, sys.stdout, indent=1)
    print()


def cmd_blocked(a):
    """Each sampled unplanned port that the baseline (router open, no host rules) showed
    reachable (TCP open or refused, UDP open or closed) is now blocked (TCP filtered, UDP
    open|filtered). Ports the baseline could not tell from blocked are not evidence."""
    base = nmap_states(a.baseline)
    now = nmap_states(a.xml)
    sample = load(a.sample)
    per = {}
    skipped = 0
    for s in sample:
        key = (s["src_ns"], s["address"], s["protocol"], s["port"])
        b = base.get(key)
        if b not in ("open", "closed"):
            skipped += 1
            continue
        label = "%s -> %s %s/%d (unplanned; open router: %s)" % (s["from"], s["to"], s["protocol"], s["port"], b)
        got = now.get(key)
        want = "filtered" if s["protocol"] == "tcp" else "open|filtered"
        if got == want:
            ok("%s: %s" % (label, got))
            n, live = per.get((s["from"], s["to"]), (0, 0))
            per[(s["from"], s["to"])] = (n + 1, live + (b == "open"))
        else:
            fail("%s: %s, expected %s (the rules let it through)" % (label, got, want))
    for (src, dst), (n, live) in sorted(per.items()):
        print("  %-8s -> %-7s %2d unplanned ports blocked (%d of them with a server behind)" % (src, dst, n, live))
    if skipped:
        note("%d sampled ports were silent even with the router open (UDP without a reply): not evidence" % skipped)


def cmd_sweep(a):
    """A TCP sweep of a whole port range per pair (nmap -sT): every port open from SRC to DST
    must be one a planned flow of SRC->DST needs; pairs are 'srcns:dsthost,...'."""
    plan = load(a.plan)
    hosts = load(a.hosts)
    by_ns = {v["ns"]: k for k, v in hosts.items()}
    nm = nmap_states(a.xml)
    for pair in a.pairs.split(","):
        sns, dst = pair.split(":")
        src = by_ns[sns]
        addr = hosts[dst]["address"]
        planned = set()
        for f in plan["flows"]:
            if f["from"] == src and f["to"] == dst and f["protocol"] == "tcp":
                lo, hi = port_range(f["ports"])
                planned.update(range(lo, hi + 1))
        swept = {port: st for (ns, ad, proto, port), st in nm.items() if ns == sns and ad == addr and proto == "tcp"}
        if not swept:
            fail("%s -> %s: nmap swept no port" % (src, dst))
            continue
        unplanned = [p for p in swept if p not in planned]
        opened = sorted(p for p in unplanned if swept[p] != "filtered")
        for p in opened:
            fail("%s -> %s tcp/%d: %s, but no planned flow needs it" % (src, dst, p, swept[p]))
        if not opened:
            ok("%s -> %s: %d unplanned ports swept, none reachable" % (src, dst, len(unplanned)))
        for p in sorted(p for p in swept if p in planned and swept[p] != "open"):
            fail("%s -> %s tcp/%d: planned, but the sweep found it %s (it cannot see through)" % (src, dst, p, swept[p]))
        if swept and all(swept[p] == "open" for p in swept if p in planned):
            ok("%s -> %s: every planned port in the range is open" % (src, dst))
        print("  %-8s -> %-7s %4d unplanned tcp ports swept: %d open, %d closed; %d planned ports open" % (
            src, dst, len(unplanned), sum(swept[p] == "open" for p in unplanned),
            sum(swept[p] == "closed" for p in unplanned),
            sum(1 for p in swept if p in planned and swept[p] == "open")))


def cmd_mutate(a):
    """The nft JSON commands that delete the rule deciding one flow and turn the rule deciding
    another into a reject, and the verdicts every flow port of those two rules must then get."""
    doc = load(a.ruleset)
    nft = Nft(doc)
    hosts = load(a.hosts)
    attrib = load(a.attrib)

    def rule_of(spec):
        frm, to, proto, port = spec.split(",")
        comment, verdict = nft.decide(a.chain, hosts[frm]["address"], hosts[to]["address"], proto, int(port))
        if verdict != "accept":
            raise SystemExit("labtool: no accept rule decides %s (%s %s)" % (spec, comment, verdict))
        for r in nft.rules[a.chain]:
            if r.get("comment", "") == comment:
                return r
        raise SystemExit("labtool: rule %r not found" % comment)

    removed = rule_of(a.remove)
    rejected = rule_of(a.reject)
    shadowed = rule_of(a.shadow) if a.shadow else None
    if len({id(r) for r in (removed, rejected, shadowed) if r is not None}) != 2 + (shadowed is not None):
        raise SystemExit("labtool: two of the mutated flows are decided by the same rule")
    protos = {e["protocol"] for e in attrib if e["rule"] == rejected.get("comment")}
    reject = {"reject": {"type": "tcp reset"}} if protos == {"tcp"} else {"reject": None}
    expr = [reject if "accept" in e else e for e in rejected["expr"]]
    key = {k: removed[k] for k in ("family", "table", "chain", "handle")}
    rkey = {k: rejected[k] for k in ("family", "table", "chain", "handle")}
    cmds = {"nftables": [{"delete": {"rule": key}},
                         {"replace": {"rule": dict(rkey, expr=expr, comment=rejected.get("comment", ""))}}]}
    # audit holds a reject for a drop (both refuse the flow; only how differs): the rejecting
    # rule, with nothing after it but the chain's closing drop accepting its packets, is
    # redundant.
    audit = {"missing": [], "too_broad": [], "shadowed": [], "redundant": [rejected.get("comment", "")],
             "mutations": {"removed": removed.get("comment", ""), "rejected": rejected.get("comment", "")}}
    if shadowed is not None:
        # A copy of the rule that drops instead, inserted right before it: the rule can never
        # match again (it is shadowed), its flows are dropped.
        skey = {k: shadowed[k] for k in ("family", "table", "chain", "handle")}
        sexpr = [{"drop": None} if "accept" in e else e for e in shadowed["expr"]]
        cmds["nftables"].append({"insert": {"rule": dict(skey, expr=sexpr, comment=SHADOW_COMMENT)}})
        audit["shadowed"].append({"rule": shadowed.get("comment", ""), "by": SHADOW_COMMENT})
        audit["mutations"]["shadowed"] = [shadowed.get("comment", ""), SHADOW_COMMENT]
    if a.broad:
        # An accept for every address on one port, inserted before the chain's closing log
        # and drop: it decides no planned flow (earlier rules accept those), only more.
        proto, port = a.broad.split(",")
        tail = [r for r in nft.rules[a.chain] if any("log" in e for e in r["expr"])
                or r.get("comment") == "rdsports default drop"]
        if not tail:
            raise SystemExit("labtool: the chain %s has no closing drop to insert before" % a.chain)
        bkey = {k: tail[0][k] for k in ("family", "table", "chain", "handle")}
        bexpr = [{"match": {"op": "==", "left": {"payload": {"protocol": proto, "field": "dport"}},
                            "right": int(port)}}, {"accept": None}]
        cmds["nftables"].append({"insert": {"rule": dict(bkey, expr=bexpr, comment=BROAD_COMMENT)}})
        audit["too_broad"].append("%s (%s hook)" % (BROAD_COMMENT, a.chain))
        audit["mutations"]["broad"] = [proto, int(port), BROAD_COMMENT]
    with open(a.commands, "w") as f:
        json.dump(cmds, f)
    expect = []
    for e in attrib:
        if e["rule"] == removed.get("comment"):
            expect.append(dict(e, verdict="filtered" if e["protocol"] == "tcp" else "open|filtered",
                               why="accept removed: " + e["rule"]))
        elif e["rule"] == rejected.get("comment"):
            expect.append(dict(e, verdict="refused" if e["protocol"] == "tcp" else "closed",
                               why="accept turned into reject: " + e["rule"]))
        elif shadowed is not None and e["rule"] == shadowed.get("comment"):
            expect.append(dict(e, verdict="filtered" if e["protocol"] == "tcp" else "open|filtered",
                               why="shadowed by a drop: " + e["rule"]))
    # The rule audit must name as deciding each now missing flow: the chain's closing drop
    # for the removed accept, the reject itself, the shadowing drop.
    deciders = {"accept removed": "rdsports default drop", "accept turned into reject": rejected.get("comment", ""),
                "shadowed by a drop": SHADOW_COMMENT}
    audit["missing"] = [[e["from"], e["to"], e["protocol"], e["port"], deciders[e["why"].split(":")[0]]]
                        for e in expect]
    if a.audit_expect:
        with open(a.audit_expect, "w") as f:
            json.dump(audit, f, indent=1)
    json.dump(expect, sys.stdout, indent=1)
    print()


SHADOW_COMMENT = "lab: shadowing drop"
BROAD_COMMENT = "lab: broad accept"
COMMENT = re.compile(r'comment "([^"]*)"')


def rule_comment(described):
    """The comment of a rule as audit describes it (nft `comment "..."`, iptables
    `--comment "..."`), or its text when it has none."""
    m = COMMENT.search(described.get("text", ""))
    return m.group(1) if m else described.get("text", "")


# ----------------------------------------------------------------------------- audit
BLOCKED = {"filtered", "refused", "closed", "open|filtered"}


def cmd_audit(a):
    """`rdsports audit --format json` of one boundary against what the lab knows: the
    contract (schema_version, counts adding up), exactly the planned flows of the boundary,
    exactly the expected missing flows, too-broad and shadowed rules (none for the generated
    rules), and for every flow check probed across the boundary, check's verdict equal to
    audit's (allowed = open; missing = filtered/refused/closed). Possible flows are listed."""
    doc = load(a.audit)
    plan = load(a.plan)
    scope = a.boundary or "host " + a.host
    tag = "audit %s" % scope
    rc_path = a.audit[:-len(".json")] + ".rc"
    try:
        rc = int(open(rc_path).read().strip())
    except (OSError, ValueError):
        rc = None
    if doc.get("schema_version") != 1:
        fail("%s: schema_version %r, want 1" % (tag, doc.get("schema_version")))
        return
    ok("%s: schema_version 1" % tag)
    if a.rules is not None:
        if doc.get("rules") == a.rules:
            ok("%s: read all %d rules of the export" % (tag, a.rules))
        else:
            fail("%s: read %r rules, the export has %d" % (tag, doc.get("rules"), a.rules))
    want = load(a.expect) if a.expect else {"missing": [], "too_broad": [], "shadowed": [], "redundant": []}
    zone_of = {}
    for f in plan["flows"]:
        zone_of[f["from"]] = f["from_zone"]
        zone_of[f["to"]] = f["to_zone"]

    def in_scope(frm, to):
        """The flows audit judges: across the boundary (both directions), or to and from the host."""
        if a.host:
            return a.host in (frm, to)
        z1, z2 = a.boundary.split(":")
        return z1 != z2 and {zone_of.get(frm), zone_of.get(to)} == {z1, z2}

    planned = {(f["from"], f["to"], f["protocol"], f["ports"]) for f in plan["flows"] if in_scope(f["from"], f["to"])}
    c = doc.get("counts", {})
    got = {(f["from"], f["to"], f["protocol"], f["ports"]): f for f in doc.get("flows", [])}
    if set(got) == planned and c.get("flows") == len(planned):
        ok("%s: the %d planned flows in scope, each once" % (tag, len(planned)))
    else:
        fail("%s: %s flows (counts.flows %s), the plan has %d in scope; extra %s, absent %s" % (
            tag, len(got), c.get("flows"), len(planned), sorted(set(got) - planned)[:5], sorted(planned - set(got))[:5]))
    if c.get("allowed", 0) + c.get("missing", 0) + c.get("possible", 0) == c.get("flows"):
        ok("%s: counts add up" % tag)
    else:
        fail("%s: counts %s do not add up" % (tag, c))
    # Expected missing flows: those with a mutated port, across this boundary.
    exp_missing = {}
    for frm, to, proto, port, by in want["missing"]:
        if not in_scope(frm, to):
            continue
        for k in planned:
            lo, hi = port_range(k[3])
            if k[:3] == (frm, to, proto) and lo <= port <= hi:
                exp_missing[k] = by
    missing = {k for k, f in got.items() if f["status"] == "missing"}
    possible = sorted(k for k, f in got.items() if f["status"] == "possible")
    if missing == set(exp_missing) and c.get("missing") == len(exp_missing):
        ok("%s: missing exactly %s" % (tag, ", ".join("%s->%s %s/%s" % k for k in sorted(missing)) or "nothing"))
    else:
        fail("%s: missing %s (counts.missing %s), expected %s" % (
            tag, sorted(missing), c.get("missing"), sorted(exp_missing)))
    for k in sorted(missing & set(exp_missing)):
        by = rule_comment(got[k].get("rule") or {})
        if by == exp_missing[k]:
            ok("%s: %s->%s %s/%s missing, decided by %s" % ((tag,) + k + (by,)))
        else:
            fail("%s: %s->%s %s/%s missing, decided by %r, expected %r" % ((tag,) + k + (by, exp_missing[k])))
    broad = sorted("%s (%s hook)" % (rule_comment(t["rule"]), t.get("hook")) for t in doc.get("too_broad", []))
    if broad == sorted(want["too_broad"]):
        ok("%s: too broad exactly %s" % (tag, ", ".join(broad) or "nothing"))
    else:
        fail("%s: too broad %s, expected %s" % (tag, broad, sorted(want["too_broad"])))
    shadow = sorted((rule_comment(s["rule"]), tuple(sorted(rule_comment(b) for b in s.get("by", []))))
                    for s in doc.get("shadowed", []))
    exp_shadow = sorted((s["rule"], (s["by"],)) for s in want["shadowed"])
    if shadow == exp_shadow:
        ok("%s: shadowed exactly %s" % (tag, ", ".join("%s (by %s)" % (r, ", ".join(b)) for r, b in shadow) or "nothing"))
    else:
        fail("%s: shadowed %s, expected %s" % (tag, shadow, exp_shadow))
    redundant = sorted(rule_comment(r["rule"]) for r in doc.get("redundant", []))
    if redundant == sorted(want.get("redundant", [])):
        ok("%s: redundant exactly %s" % (tag, ", ".join(redundant) or "nothing"))
    else:
        fail("%s: redundant %s, expected %s" % (tag, redundant, sorted(want.get("redundant", []))))
    # After check probed every flow, no generated accept is unused (the counters saw them).
    gen_unused = [rule_comment(u["rule"]) for u in doc.get("unused", [])
                  if re.match(r"r[0-9]+ ", rule_comment(u["rule"]))]
    if a.checks and not want["missing"]:
        if gen_unused:
            fail("%s: generated rules with no hits after check probed their flows: %s" % (tag, gen_unused))
        else:
            ok("%s: every generated accept has hits after check (%d unused rules, none generated)" % (
                tag, len(doc.get("unused", []))))
    want_rc = 1 if exp_missing else 0
    if rc is not None:
        if rc == want_rc:
            ok("%s: exit status %d" % (tag, rc))
        else:
            fail("%s: exit status %d, expected %d" % (tag, rc, want_rc))
    # check against audit, flow port by flow port.
    agree = compared = 0
    for path in a.checks or []:
        cd = load(path)
        src = cd.get("from")
        for r in cd.get("results", []):
            if not in_scope(src, r["to"]):
                continue
            fs = [f for k, f in got.items() if k[:3] == (src, r["to"], r["protocol"])
                  and port_range(k[3])[0] <= r["port"] <= port_range(k[3])[1]]
            label = "%s -> %s %s/%d" % (src, r["to"], r["protocol"], r["port"])
            if not fs:
                fail("%s: check probed it, audit has no such flow" % label)
                continue
            st = {f["status"] for f in fs}
            if "possible" in st or any(f.get("partial") for f in fs):
                note("%s: audit says %s, check %s (not compared)" % (label, "/".join(sorted(st)), r["verdict"]))
                continue
            compared += 1
            if st == {"allowed"} and r["verdict"] == "open" or st == {"missing"} and r["verdict"] in BLOCKED:
                ok("%s: audit %s, check %s" % (label, "/".join(st), r["verdict"]))
                agree += 1
            else:
                fail("%s: audit says %s, check says %s" % (label, "/".join(sorted(st)), r["verdict"]))
    for k in possible:
        note("%s: %s->%s %s/%s possible: %s" % ((tag,) + k + (got[k].get("reason"),)))
    print("  %-18s %d flows: %d allowed, %d missing, %d possible; too broad %d, shadowed %d, redundant %d; check agrees on %d of %d ports" % (
        scope, c.get("flows", 0), c.get("allowed", 0), c.get("missing", 0), c.get("possible", 0),
        len(broad), len(shadow), len(redundant), agree, compared))


def cmd_targets(a):
    """nmap targets for one source: 'ADDRESS TCPPORTS UDPPORTS' per destination, from the
    ports its check probed and the unplanned sample ('-' when none)."""
    per = {}
    if a.check:
        for r in load(a.check).get("results", []):
            if a.to and r["to"] != a.to:
                continue
            per.setdefault(r["address"], {"tcp": set(), "udp": set()})[r["protocol"]].add(r["port"])
    if a.sample and a.sample != os.devnull:
        for s in load(a.sample):
            if s["src_ns"] == a.src_ns and (not a.to or s["to"] == a.to):
                per.setdefault(s["address"], {"tcp": set(), "udp": set()})[s["protocol"]].add(s["port"])
    for addr, d in sorted(per.items()):
        print(addr, ",".join(map(str, sorted(d["tcp"]))) or "-", ",".join(map(str, sorted(d["udp"]))) or "-")


# ----------------------------------------------------------------------------- main
def main():
    global VERBOSE
    p = argparse.ArgumentParser()
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("attribute")
    s.add_argument("--ruleset", required=True)
    s.add_argument("--plan", required=True)
    s.add_argument("--hosts", required=True)
    s.add_argument("--chain", required=True)
    s.add_argument("--host")
    s = sub.add_parser("listen")
    s.add_argument("files", nargs="+")
    s = sub.add_parser("checks")
    s.add_argument("--plan", required=True)
    s.add_argument("--hosts", required=True)
    s.add_argument("--listen", required=True)
    s.add_argument("--expect")
    s.add_argument("--proven", help="flows check does not probe that the lab proved another way")
    s.add_argument("--to")
    s.add_argument("files", nargs="+")
    s = sub.add_parser("nmap")
    s.add_argument("--hosts", required=True)
    s.add_argument("--checks", nargs="+", required=True)
    s.add_argument("--xml", nargs="+", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--plan", required=True)
    s.add_argument("--hosts", required=True)
    s.add_argument("--listen", required=True)
    s.add_argument("--pairs", required=True)
    s = sub.add_parser("mutate")
    s.add_argument("--ruleset", required=True)
    s.add_argument("--hosts", required=True)
    s.add_argument("--attrib", required=True)
    s.add_argument("--chain", default="forward")
    s.add_argument("--remove", required=True, help="FROM,TO,PROTO,PORT")
    s.add_argument("--reject", required=True, help="FROM,TO,PROTO,PORT")
    s.add_argument("--shadow", help="FROM,TO,PROTO,PORT: a drop copy of its rule goes before it")
    s.add_argument("--broad", help="PROTO,PORT: an accept for every address goes before the closing drop")
    s.add_argument("--commands", required=True)
    s.add_argument("--audit-expect", dest="audit_expect", help="what audit must then report")
    s = sub.add_parser("audit")
    s.add_argument("--audit", required=True)
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--boundary", help="Z1:Z2, as audit was given it")
    g.add_argument("--host", help="the host whose own firewall audit was given")
    s.add_argument("--plan", required=True)
    s.add_argument("--rules", type=int, help="how many rules the export has")
    s.add_argument("--expect")
    s.add_argument("--checks", nargs="*")
    s = sub.add_parser("targets")
    s.add_argument("--check")
    s.add_argument("--sample")
    s.add_argument("--src-ns", dest="src_ns", default="")
    s.add_argument("--to")
    s = sub.add_parser("sweep")
    s.add_argument("--plan", required=True)
    s.add_argument("--hosts", required=True)
    s.add_argument("--pairs", required=True)
    s.add_argument("--xml", nargs="+", required=True)
    s = sub.add_parser("blocked")
    s.add_argument("--sample", required=True)
    s.add_argument("--baseline", nargs="+", required=True)
    s.add_argument("--xml", nargs="+", required=True)
    a = p.parse_args()
    VERBOSE = a.verbose
    {"attribute": cmd_attribute, "listen": cmd_listen, "checks": cmd_checks, "nmap": cmd_nmap,
     "sample": cmd_sample, "blocked": cmd_blocked, "mutate": cmd_mutate, "targets": cmd_targets, "sweep": cmd_sweep, "audit": cmd_audit}[a.cmd](a)
    if a.cmd in ("checks", "nmap", "blocked", "sweep", "audit"):
        print("  %d passed, %d failed" % (PASSED, FAILED))
        # run.sh adds these up for its closing line
        with open(os.environ.get("LABTOOL_COUNTS", os.devnull), "a") as f:
            f.write("%d %d\n" % (PASSED, FAILED))
    sys.exit(1 if FAILED else 0)


VERBOSE = False
if __name__ == "__main__":
    main()
