"""RDP front-end probe: X.224 Connection Request with an RDP negotiation request (MS-RDPBCGR
2.2.1.1), then TLS when the server selects it. Prints the selected protocol and TLS version.

    python3 rdp.py HOST [PORT]        exit 0: the server spoke RDP
"""
import socket
import ssl
import struct
import sys

host = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 3389
PROTOCOL_SSL, PROTOCOL_HYBRID = 0x1, 0x2
# RDP_NEG_REQ: type 1, flags 0, length 8, requestedProtocols
neg = struct.pack("<BBHI", 1, 0, 8, PROTOCOL_SSL | PROTOCOL_HYBRID)
# X.224 CR TPDU: LI, CR code 0xE0, DST-REF, SRC-REF, class 0, then the cookie and RDP_NEG_REQ
body = b"\xe0\x00\x00\x00\x00\x00" + b"Cookie: mstshash=lab\r\n" + neg
x224 = bytes([len(body)]) + body
tpkt = struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224
s = socket.create_connection((host, port), timeout=5)
s.sendall(tpkt)
r = s.recv(64)
# TPKT version 3, X.224 Connection Confirm (0xD0)
if len(r) < 11 or r[0] != 3 or (r[5] & 0xF0) != 0xD0:
    sys.exit("not RDP: " + r.hex())
selected = None
if len(r) >= 19:
    kind, _, _, value = struct.unpack("<BBHI", r[11:19])
    if kind != 2:
        sys.exit("RDP_NEG_FAILURE %d" % value)
    selected = value
print("rdp: X.224 connection confirm, selected protocol", selected)
if selected in (PROTOCOL_SSL, PROTOCOL_HYBRID):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname=host)
    print("rdp: TLS", t.version(), t.cipher()[0])
