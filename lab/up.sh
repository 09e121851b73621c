#!/usr/bin/env bash
# Brings the lab up: namespaces, veths, the router, the real servers, then proves that each
# server answers. Tears everything down again when any step fails.
#
#   lab/up.sh [--net-only]          (root; lab/install.sh first)
#
# Environment: RDL_DIR (lab files, default /tmp/rdsports-lab), RDL_PREFIX (namespace prefix,
# default rdl), RDSPORTS (the binary; default the release build of this tree), RDL_LISTEN_FOR
# (how long `rdsports listen` keeps the stand-in listeners, default 30m), RDL_KEEP_ON_FAIL=1
# (leave a failed lab up to inspect it), KEEP_LAB=1 (down.sh keeps the lab directory).
#
# The router starts open (forwarding, no rules); lab/run.sh loads the generated rules. All
# addresses are in 198.18.0.0/15, inside namespaces this script creates; servers run inside
# those namespaces only, each in a private mount namespace (`ip netns exec`), with tmpfs over
# the run directories a package would share with the machine (/run/samba, /run/xrdp).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ $(id -u) -eq 0 ]] || die "lab/up.sh needs root (network namespaces)"

NET_ONLY=
[[ ${1:-} == --net-only ]] && NET_ONLY=1

"$LAB_SRC/down.sh" --quiet
on_exit() {
  local rc=$?
  ((rc)) || return 0
  if [[ -n ${RDL_KEEP_ON_FAIL:-} ]]; then
    log "up failed (exit $rc): lab left up for inspection (RDL_KEEP_ON_FAIL); lab/down.sh removes it"
  else
    log "up failed (exit $rc): tearing down"
    "$LAB_SRC/down.sh" --quiet
  fi
}
trap on_exit EXIT

# ---------------------------------------------------------------- paths outside the lab dir
# Every path outside $LAB the lab mounts over or writes into is created here when missing, on
# a machine where no package service ever ran (apt installs xrdp and Samba without starting
# them, and /run is empty after a reboot): the mount points of the servers' private mounts
# (/run/samba, /run/xrdp: a service start would create them; /var/log/samba: the package's).
# What this creates is listed in $LAB/created, and lab/down.sh removes exactly that (empty:
# the lab only ever mounts over them). /etc/netns/<ns> is made per namespace below.
make_mount_points() {
  local d
  for d in /run/samba /run/xrdp /var/log/samba; do
    if [[ ! -d $d ]]; then
      mkdir -p "$d"
      echo "$d" >>"$LAB/created"
    fi
  done
}

# ---------------------------------------------------------------- namespaces and the router
net_up() {
  local ns z n addr i
  mkdir -p "$LAB"/{log,pid,etc}
  chmod 755 "$LAB"
  make_mount_points
  for ns in "${ALL_NS[@]}"; do
    ip netns add "$P-$ns"
    ip -n "$P-$ns" link set lo up
    # IPv4 only, and ICMP errors unthrottled, so "closed" UDP answers are never rate-limited.
    IN "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
    IN "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
  done
  IN rtr sysctl -qw net.ipv4.ip_forward=1

  # The internal zone's switch: a bridge with no address in its own namespace.
  ip -n "$P-sw" link add br0 type bridge
  ip -n "$P-sw" link set br0 up

  # Router legs: inet and dmz directly, lan through the switch.
  for z in inet dmz lan; do
    n=${ZONE_NET[$z]}
    ip link add "$P-r-$z" type veth peer name "$P-r-$z-p"
    ip link set "$P-r-$z" netns "$P-rtr"
    ip -n "$P-rtr" link set "$P-r-$z" name "$z"
    ip -n "$P-rtr" addr add "$n.1/24" dev "$z"
    ip -n "$P-rtr" link set "$z" up
  done
  ip link set "$P-r-inet-p" netns "$P-inet"
  ip link set "$P-r-dmz-p" netns "$P-dmz"
  ip link set "$P-r-lan-p" netns "$P-sw"
  ip -n "$P-sw" link set "$P-r-lan-p" name rtr master br0 up

  for ns in "${HOST_NS[@]}"; do
    addr=$(addr_of "$ns")
    z=$(zone_of "$ns")
    n=${ZONE_NET[$z]}
    if [[ $z == lan ]]; then
      ip link add "$P-h-$ns" type veth peer name "$P-h-$ns-p"
      ip link set "$P-h-$ns-p" netns "$P-sw"
      ip -n "$P-sw" link set "$P-h-$ns-p" name "$ns" master br0 up
      ip link set "$P-h-$ns" netns "$P-$ns"
      ip -n "$P-$ns" link set "$P-h-$ns" name eth0
    else
      ip -n "$P-$ns" link set "$P-r-$z-p" name eth0
    fi
    ip -n "$P-$ns" addr add "$addr/24" dev eth0
    ip -n "$P-$ns" link set eth0 up
    ip -n "$P-$ns" route add default via "$n.1"
    # `ip netns exec` binds these over /etc/resolv.conf and /etc/hosts: names stay in the lab.
    mkdir -p "/etc/netns/$P-$ns"
    echo "nameserver $(addr_of dc)" >"/etc/netns/$P-$ns/resolv.conf"
    {
      echo "127.0.0.1 localhost"
      for i in "${HOST_NS[@]}"; do
        [[ $i == inet ]] || echo "$(addr_of "$i") $(host_of "$i").$DNSDOMAIN $(host_of "$i")"
      done
      echo "$(addr_of dc) dc1.$DNSDOMAIN dc1"
    } >"/etc/netns/$P-$ns/hosts"
  done
  mkdir -p "/etc/netns/$P-rtr"
  echo "nameserver $(addr_of dc)" >"/etc/netns/$P-rtr/resolv.conf"

  # Every host reaches its gateway, and across the open router every other zone.
  for ns in "${HOST_NS[@]}"; do
    IN "$ns" ping -c1 -W2 -q "${ZONE_NET[$(zone_of "$ns")]}.1" >/dev/null ||
      die "$P-$ns cannot reach its router"
  done
  IN inet ping -c1 -W2 -q "$(addr_of dc)" >/dev/null || die "inet cannot reach dc across the router"
  IN sh ping -c1 -W2 -q "$(addr_of cb)" >/dev/null || die "sh cannot reach cb on the switch"
}

# ---------------------------------------------------------------- the servers
# A self-signed certificate per TLS server (name and address of the host).
make_cert() { # name host addr
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2.$DNSDOMAIN" \
    -addext "subjectAltName=DNS:$2.$DNSDOMAIN,IP:$3" \
    -keyout "$LAB/etc/$1.key" -out "$LAB/etc/$1.crt" 2>/dev/null
  chmod 644 "$LAB/etc/$1.key"
}

# nginx NS SERVER-BLOCKS: one nginx per namespace, all state under $LAB/nginx-NS.
start_nginx() {
  local ns=$1 servers=$2 d="$LAB/nginx-$1"
  mkdir -p "$d/tmp"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
  access_log $d/access.log;
  client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
  uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
  default_type text/plain;
$servers
}
EOF
  bg "nginx-$ns" "$ns" nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;'
}

# xrdp NS [PORT]: the X.224/TLS front end of an RDP server (no session manager: no logins),
# on PORT (default 3389).
start_xrdp() {
  local ns=$1 port=${2:-3389} host
  host=$(host_of "$ns")
  make_cert "xrdp-$ns" "$host" "$(addr_of "$ns")"
  sed -e "s#^certificate=.*#certificate=$LAB/etc/xrdp-$ns.crt#" \
    -e "s#^key_file=.*#key_file=$LAB/etc/xrdp-$ns.key#" \
    -e "s#^port=3389#port=tcp://$(addr_of "$ns"):$port#" \
    /etc/xrdp/xrdp.ini >"$LAB/etc/xrdp-$ns.ini"
  sed -i -e "s#^LogFile=.*#LogFile=$LAB/log/xrdp-$ns.file.log#" "$LAB/etc/xrdp-$ns.ini"
  # shellcheck disable=SC2016  # $1 is expanded by the inner sh
  bg "xrdp-$ns" "$ns" sh -c 'mount -t tmpfs -o mode=755 tmpfs /run/xrdp &&
    mkdir -m 3777 /run/xrdp/sockdir && exec /usr/sbin/xrdp --nodaemon --config "$1"' \
    sh "$LAB/etc/xrdp-$ns.ini"
}

# samba_bg NAME NS CMD...: a Samba server in its own mount namespace, where /run/samba is a
# tmpfs and /var/log/samba is the lab's log directory: the helpers Samba starts on demand
# (samba-dcerpcd, rpcd_*) use those compiled-in paths whatever smb.conf says.
samba_bg() {
  local name=$1 ns=$2
  shift 2
  mkdir -p "$LAB/log/$name.d"
  # shellcheck disable=SC2016  # $0 and $@ are expanded by the inner sh
  bg "$name" "$ns" sh -c 'mount -t tmpfs -o mode=755 tmpfs /run/samba &&
    mount --bind "$0" /var/log/samba && exec "$@"' "$LAB/log/$name.d" "$@"
}

start_samba_dc() {
  local d="$LAB/samba" c
  mkdir -p "$d/run"
  IN dc samba-tool domain provision --targetdir="$d" --realm="$REALM" --domain="$DOMAIN" \
    --server-role=dc --dns-backend=SAMBA_INTERNAL --adminpass="$ADMIN_PASS" --host-name=dc1 \
    --host-ip="$(addr_of dc)" --option="interfaces=lo eth0" --option="bind interfaces only=yes" \
    >"$LAB/log/samba-provision.log" 2>&1 || { tail -20 "$LAB/log/samba-provision.log" >&2; return 1; }
  c="$d/etc/smb.conf"
  # Provision copies the machine's resolver into `dns forwarder`: the DC must never forward off
  # the lab. RPC: Samba's dynamic endpoints go into the lab's restricted range (KB 154596 in
  # Samba's terms). Samba cannot pin AD RPC to ONE port: the single-process endpoints (lsarpc,
  # drsuapi, dnsserver ...) and netlogon need two sockets (tried: `rpc server port` and
  # `rpc server port:<iface>` on one port fail with ADDRESS_ALREADY_ASSOCIATED), so lab.toml
  # leaves ad_rpc_port unset and the DC's RPC is planned on rpc_range.
  sed -i -e '/dns forwarder/d' -e "s#log file = .*#log file = $LAB/log/samba.%m#" "$c"
  sed -i "/\[global\]/a\\
	pid directory = $d/run\\
	prefork children = 1\\
	ntp signd socket directory = $d/ntp_signd\\
	rpc server dynamic port range = ${RPC_RANGE}" "$c"
  samba_bg samba dc samba -F --debug-stdout -s "$c"
  printf '[libdefaults]\n  default_realm = %s\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n[realms]\n  %s = {\n    kdc = %s\n  }\n' \
    "$REALM" "$REALM" "$(addr_of dc)" >"$LAB/etc/krb5.conf"
}

start_radius() {
  local r="$LAB/raddb"
  cp -a /etc/freeradius/3.0 "$r"
  rm -f "$r/mods-enabled/eap" "$r/sites-enabled/inner-tunnel"
  sed -i -E '/^\s*eap\s*\{/,/^\s*\}/d; s/^(\s*)eap\s*$/\1#eap/' "$r/sites-enabled/default"
  sed -i -E -e "s#^run_dir = .*#run_dir = $LAB/radius-run#" \
    -e "s#^logdir = .*#logdir = $LAB/log/radius.d#" "$r/radiusd.conf"
  printf '\nclient lab {\n\tipaddr = 198.18.0.0/15\n\tsecret = %s\n}\n' "$RADIUS_SECRET" >>"$r/clients.conf"
  sed -i "1i $RADIUS_USER Cleartext-Password := \"$RADIUS_PASS\"" "$r/mods-config/files/authorize"
  mkdir -p "$LAB/radius-run" "$LAB/log/radius.d"
  chown -R freerad:freerad "$r" "$LAB/radius-run" "$LAB/log/radius.d"
  bg radius dc freeradius -f -d "$r" -l "$LAB/log/radius.file.log"
}

# smbd as a standalone file server: SMB 445/139 of the session host (broker management, S10a).
start_smbd_sh() {
  local n="$LAB/smb-sh" d
  mkdir -p "$n"/{lock,state,cache,pid,private,ncalrpc,share}
  {
    printf '[global]\n workgroup = %s\n netbios name = SH01\n server role = standalone server\n' "$DOMAIN"
    printf ' interfaces = lo eth0\n bind interfaces only = yes\n load printers = no\n disable spoolss = yes\n'
    for d in lock state cache pid; do printf ' %s directory = %s/%s\n' "$d" "$n" "$d"; done
    printf ' private dir = %s/private\n ncalrpc dir = %s/ncalrpc\n log file = %s/log/smbd-sh.%%m\n' "$n" "$n" "$LAB"
    printf '[share]\n path = %s/share\n read only = yes\n guest ok = yes\n' "$n"
  } >"$n/smb.conf"
  samba_bg smbd-sh sh smbd -F --debug-stdout --no-process-group -s "$n/smb.conf"
}

start_vsftpd() {
  local d="$LAB/ftp"
  mkdir -p "$d/root/crl" "$d/empty"
  chmod 755 "$d/empty"
  echo "lab CRL placeholder" >"$d/root/crl/lab.crl"
  printf '%s\n' listen=YES listen_ipv6=NO "listen_address=$(addr_of pki)" background=NO \
    anonymous_enable=YES "anon_root=$d/root" no_anon_password=YES local_enable=NO write_enable=NO \
    seccomp_sandbox=NO "secure_chroot_dir=$d/empty" pasv_enable=YES \
    "pasv_min_port=${FTP_PASV%-*}" "pasv_max_port=${FTP_PASV#*-}" \
    "vsftpd_log_file=$LAB/log/vsftpd.file.log" >"$LAB/etc/vsftpd.conf"
  bg vsftpd pki vsftpd "$LAB/etc/vsftpd.conf"
}

servers_up() {
  local a
  # Perimeter: RD Web Access and RD Gateway's HTTPS front (443), an HTTP listener on 80 that
  # no flow needs (so the firewall must hide it), and the WinRM stand-in (5985).
  a=$(addr_of dmz)
  make_cert web "gw01" "$a"
  mkdir -p "$LAB/www/RDWeb" "$LAB/www/crl"
  echo "rdsports lab" >"$LAB/www/index.html"
  echo "RD Web Access (lab)" >"$LAB/www/RDWeb/index.html"
  echo "lab CRL placeholder" >"$LAB/www/crl/lab.crl"
  local wsman="location /wsman { add_header WWW-Authenticate Negotiate always; return 401; }
    location / { return 404; }"
  start_nginx dmz "
  server { listen $a:443 ssl; root $LAB/www; ssl_certificate $LAB/etc/web.crt; ssl_certificate_key $LAB/etc/web.key; }
  server { listen $a:80; location / { return 301 https://\$host\$request_uri; } }
  server { listen $a:5985; $wsman }"

  # Session host: xrdp on 3389, SMB, WinRM stand-in.
  start_xrdp sh
  start_smbd_sh
  start_nginx sh "
  server { listen $(addr_of sh):5985; $wsman }"

  # Session host sh02: its RDP listener on its own port (rdp_port on its [[host]] in lab.toml),
  # and a stale service on the deployment's port 3389, which no flow to sh02 needs: the
  # firewall must hide it. The rest (SMB, WinRM, UDP 3390) is `rdsports listen`.
  start_xrdp sh2 "$SH02_RDP"
  start_nginx sh2 "
  server { listen $(addr_of sh2):3389; return 404; }"

  # Broker (and license server): xrdp as the RDP redirector front; the rest is `rdsports listen`.
  start_xrdp cb

  # CRL server: HTTP 80 and FTP 21 with passive data ports.
  start_nginx pki "
  server { listen $(addr_of pki):80; root $LAB/www; }"
  start_vsftpd

  # Domain controller (DNS, AD) and NPS.
  start_radius
  start_samba_dc

  wait_port dmz tcp 443; wait_port dmz tcp 80; wait_port dmz tcp 5985
  wait_port sh tcp 3389; wait_port sh tcp 445; wait_port sh tcp 5985
  wait_port sh2 tcp "$SH02_RDP"; wait_port sh2 tcp 3389
  wait_port cb tcp 3389
  wait_port pki tcp 80; wait_port pki tcp 21
  wait_port dc udp 1812; wait_port dc udp 1813
  local p
  for p in 53 88 135 139 389 445 464 636 3268 3269 "${RPC_RANGE%-*}"; do wait_port dc tcp "$p" 60; done
  for p in 53 88 137 138 389 464; do wait_port dc udp "$p" 60; done
}

# ---------------------------------------------------------------- stand-in listeners
listeners_up() {
  local bin ns
  bin=$(rdsports_bin)
  if ! [[ -x $bin ]] || ! has_cmd listen; then
    log "listeners: \`rdsports listen\` not available in $bin: ports without a Debian server stay closed"
    return 0
  fi
  for ns in "${HOST_NS[@]}"; do
    [[ $ns == inet ]] && continue
    bg "listen-$ns" "$ns" "$bin" listen "$LAB_SRC/lab.toml" --as "$(host_of "$ns")" --for "${RDL_LISTEN_FOR:-30m}"
  done
  sleep 0.5
  for ns in "${HOST_NS[@]}"; do
    [[ $ns == inet ]] && continue
    kill -0 "$(cat "$LAB/pid/listen-$ns")" 2>/dev/null || { cat "$LAB/log/listen-$ns.log" >&2; die "rdsports listen --as $(host_of "$ns") exited"; }
  done
}

t0=$(now)
net_up
log "network up in $(since "$t0") s: ${#ALL_NS[@]} namespaces ($P-*), router open"
if [[ -z $NET_ONLY ]]; then
  t1=$(now)
  servers_up
  log "servers listening in $(since "$t1") s"
  t1=$(now)
  "$LAB_SRC/prove.sh"
  log "every server answered in $(since "$t1") s"
  listeners_up
fi
log "lab up in $(since "$t0") s (files in $LAB)"
trap - EXIT
