#!/usr/bin/env bash
# Installs the Debian packages the lab needs (only the missing ones, `apt-get update` once).
#
#   lab/install.sh            (root)
#
# apt must not start any of these servers in the root network namespace (nginx, samba, xrdp,
# freeradius and vsftpd would listen on the machine's real interfaces). A policy-rc.d that
# exits 101 forbids every service start during the install; it is created only when missing and
# removed again afterwards, so the machine is left as it was found.
set -euo pipefail

# The packages, one list for every lab piece (see lab/README.md for what each one serves).
PACKAGES=(
  # network: namespaces, router rules, probes
  iproute2 iputils-ping nftables iptables netcat-openbsd nmap curl openssl jq python3
  # RDP on the session host
  xrdp
  # Samba AD domain controller (LDAP, LDAPS, Kerberos, DNS, SMB, EPM, NetBIOS) and its clients
  samba-ad-dc samba samba-ad-provision winbind krb5-user smbclient ldb-tools bind9-dnsutils ldap-utils
  # FreeRADIUS as the NPS
  freeradius freeradius-utils
  # nginx: RD Web Access (443), CRL over HTTP (80), WinRM stand-in (5985); vsftpd: CRL over FTP
  nginx ssl-cert vsftpd
)

if [[ $(id -u) -ne 0 ]]; then
  echo "lab/install.sh: needs root (apt-get)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "lab/install.sh: all ${#PACKAGES[@]} packages present"
  exit 0
fi

guard=/usr/sbin/policy-rc.d
created_guard=
if [[ ! -e $guard ]]; then
  printf '#!/bin/sh\n# lab/install.sh: no service starts during the lab install\nexit 101\n' >"$guard"
  chmod 755 "$guard"
  created_guard=1
fi
cleanup() { if [[ -n $created_guard ]]; then rm -f "$guard"; fi; }
trap cleanup EXIT

start=$(date +%s.%N)
echo "lab/install.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
printf 'lab/install.sh: done in %.1f s\n' "$(awk "BEGIN {print $(date +%s.%N) - $start}")"
