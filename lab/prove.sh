#!/usr/bin/env bash
# Proves that every real server of the lab answers its own protocol, with the protocol's own
# client (curl, ldapsearch, kinit, smbclient, radtest, nmblookup, dig) or a small probe from
# lab/probes. Run by lab/up.sh while the router is still open; exit 1 names what did not answer.
#
#   lab/prove.sh                    (root, lab up)
set -uo pipefail
source "$(dirname "$0")/lib.sh"

fails=0
# check LABEL NS PATTERN CMD...: CMD's output (stdout+stderr) must contain PATTERN.
check() {
  local label=$1 ns=$2 pattern=$3 out line
  shift 3
  # a server that has just started may still be registering (NetBIOS names, the KDC): retry
  for _ in 1 2 3 4 5; do
    out=$(IN "$ns" timeout 15 "$@" 2>&1)
    line=$(grep -m1 -E -- "$pattern" <<<"$out")
    [[ -n $line ]] && break
    sleep 1
  done
  if [[ -n $line ]]; then
    printf '  ok    %-34s %s\n' "$label" "${line:0:90}"
  else
    printf '  FAIL  %-34s expected /%s/, got:\n%s\n' "$label" "$pattern" "$(head -8 <<<"$out" | sed 's/^/          /')"
    fails=$((fails + 1))
  fi
}

GW=$(addr_of dmz) DC=$(addr_of dc) SH=$(addr_of sh) SH2=$(addr_of sh2) CB=$(addr_of cb) PKI=$(addr_of pki)
PROBES=$LAB_SRC/probes
export KRB5_CONFIG=$LAB/etc/krb5.conf KRB5CCNAME=FILE:$LAB/krb5cc LDAPTLS_REQCERT=never
# Samba's client tools keep their state (messaging sockets, name cache) in the lab directory,
# not in the machine's /run/samba.
SC=$LAB/samba-client
mkdir -p "$SC"/{lock,state,cache,pid,private,ncalrpc}
{
  printf '[global]\n workgroup = %s\n realm = %s\n' "$DOMAIN" "$REALM"
  for d in lock state cache pid; do printf ' %s directory = %s/%s\n' "$d" "$SC" "$d"; done
  printf ' private dir = %s/private\n ncalrpc dir = %s/ncalrpc\n' "$SC" "$SC"
} >"$SC/smb.conf"

echo "servers (asked from the hosts that use them, router open):"
check "gw01 RD Web Access https/443" inet '^RD Web Access' \
  curl -sS --fail --cacert "$LAB/etc/web.crt" --resolve "gw01.$DNSDOMAIN:443:$GW" \
  "https://gw01.$DNSDOMAIN/RDWeb/"
check "gw01 http/80 (no flow needs it)" inet '^301$' curl -sS -o /dev/null -w '%{http_code}' "http://$GW/"
check "gw01 WinRM stand-in 5985" cb '^WWW-Authenticate: Negotiate' curl -sS -D - -o /dev/null "http://$GW:5985/wsman"
check "sh01 RDP 3389 (xrdp)" dmz '^rdp: TLS' python3 "$PROBES/rdp.py" "$SH"
check "sh01 SMB 445 (smbd)" cb 'share +Disk' smbclient -s "$SC/smb.conf" -N -m SMB3 -L "//$SH"
check "sh01 WinRM stand-in 5985" cb '^WWW-Authenticate: Negotiate' curl -sS -D - -o /dev/null "http://$SH:5985/wsman"
check "sh02 RDP $SH02_RDP (xrdp, its own port)" dmz '^rdp: TLS' python3 "$PROBES/rdp.py" "$SH2" "$SH02_RDP"
check "sh02 http/3389 (stale, no flow)" dmz '^404$' curl -sS -o /dev/null -w '%{http_code}' "http://$SH2:3389/"
check "cb01 RDP 3389 (xrdp)" dmz '^rdp: TLS' python3 "$PROBES/rdp.py" "$CB"
check "pki01 CRL http/80" dmz '^lab CRL' curl -sS "http://$PKI/crl/lab.crl"
check "pki01 CRL ftp/21 (passive)" dmz '^lab CRL' curl -sS --ftp-pasv "ftp://$PKI/crl/lab.crl"
check "pki01 FTP banner" dmz '^220 ' sh -c "printf 'QUIT\r\n' | nc -w 3 $PKI 21"
check "dc01 DNS SRV 53" dmz "dc1\\.$DNSDOMAIN" dig +short +time=2 "@$DC" "_ldap._tcp.$DNSDOMAIN" SRV
check "dc01 DNS over TCP 53" dmz "^$DC\$" dig +short +tcp +time=2 "@$DC" "dc1.$DNSDOMAIN" A
check "dc01 LDAP rootDSE 389" dmz '^dnsHostName: dc1' ldapsearch -LLL -x -H "ldap://$DC" -b '' -s base dnsHostName
check "dc01 LDAPS 636" sh '^defaultNamingContext: DC=lab' ldapsearch -LLL -x -H "ldaps://$DC" -b '' -s base defaultNamingContext
check "dc01 global catalog 3268" dmz '^dnsHostName: dc1' ldapsearch -LLL -x -H "ldap://$DC:3268" -b '' -s base dnsHostName
check "dc01 Kerberos 88 (kinit)" dmz "krbtgt/$REALM@$REALM" sh -c "echo '$ADMIN_PASS' | kinit administrator@$REALM >/dev/null && klist"
check "dc01 SMB 445 (sysvol)" dmz 'sysvol +Disk' smbclient -s "$SC/smb.conf" -m SMB3 -L "//$DC" -U "$DOMAIN\\administrator%$ADMIN_PASS"
check "dc01 endpoint mapper 135" dmz '^epm: bind_ack' python3 "$PROBES/epm.py" "$DC"
# lsarpc and netlogon registered on ports of the restricted range (rpc_range).
check "dc01 lsarpc in $RPC_RANGE (EPM)" dmz "ncacn_ip_tcp:[0-9.]+\\[${RPC_RANGE:0:3}[0-9]{2},abstract_syntax=12345778-1234-abcd-ef00-0123456789ab/" \
  rpcclient -s "$SC/smb.conf" "ncacn_ip_tcp:$DC" -U "$DOMAIN\\administrator%$ADMIN_PASS" -c epmlookup
check "dc01 netlogon in $RPC_RANGE (EPM)" dmz "ncacn_ip_tcp:[0-9.]+\\[${RPC_RANGE:0:3}[0-9]{2},abstract_syntax=12345678-1234-abcd-ef00-01234567cffb/" \
  rpcclient -s "$SC/smb.conf" "ncacn_ip_tcp:$DC" -U "$DOMAIN\\administrator%$ADMIN_PASS" -c epmlookup
check "dc01 NetBIOS 137 (node status)" dmz 'DC1 +<00>' nmblookup -s "$SC/smb.conf" -A "$DC"
check "dc01 NPS: RADIUS 1812 (radtest)" dmz 'Received Access-Accept' \
  radtest "$RADIUS_USER" "$RADIUS_PASS" "$DC" 0 "$RADIUS_SECRET" 0 "$GW"
check "dc01 NPS: RADIUS 1812 bad password" dmz 'Received Access-Reject' \
  radtest "$RADIUS_USER" wrong "$DC" 0 "$RADIUS_SECRET" 0 "$GW"
check "dc01 NPS: accounting 1813" dmz 'Received Accounting-Response' sh -c \
  "printf 'User-Name = $RADIUS_USER\nAcct-Status-Type = Start\nAcct-Session-Id = lab1\n' | radclient -x $DC:1813 acct '$RADIUS_SECRET'"
rm -f "$LAB/krb5cc"
if ((fails)); then
  echo "$fails server(s) did not answer" >&2
  exit 1
fi
