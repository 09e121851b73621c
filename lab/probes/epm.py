"""DCE/RPC bind to the endpoint mapper (MS-RPCE / C706 bind PDU) on TCP 135.

    python3 epm.py HOST [PORT]        exit 0: bind_ack (PDU type 12)
"""
import socket
import struct
import sys
import uuid

host = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 135
EPM = uuid.UUID("e1af8308-5d1f-11c9-91a4-08002b14a0fa").bytes_le + struct.pack("<HH", 3, 0)
NDR = uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860").bytes_le + struct.pack("<I", 2)
# max_xmit_frag, max_recv_frag, assoc_group, one context: id 0, one transfer syntax
body = struct.pack("<HHIB3x", 4280, 4280, 0, 1) + struct.pack("<HBB", 0, 1, 0) + EPM + NDR
# version 5.0, bind (11), flags first|last, little-endian data representation, call id 1
hdr = struct.pack("<BBBB4sHHI", 5, 0, 11, 3, b"\x10\x00\x00\x00", 16 + len(body), 0, 1)
s = socket.create_connection((host, port), timeout=5)
s.sendall(hdr + body)
r = s.recv(1024)
kind = {12: "bind_ack", 13: "bind_nak"}.get(r[2] if len(r) > 2 else -1, "unknown")
print("epm:", kind)
sys.exit(kind != "bind_ack")
