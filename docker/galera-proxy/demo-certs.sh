#!/bin/sh
# demo-certs.sh - the demo stack's TLS files, made once: a CA and one certificate for both proxies.
#
#   demo-certs.sh DIR [OWNER]
#
# compose.yml runs it in the one-shot service tls-init, DIR being the volume proxy-tls that the
# proxies mount at /etc/galera-proxy/tls. Nothing private is kept in the repository: the key is
# made here, readable by OWNER only (default 10001, the image's galera-proxy user); the CA's own
# key is deleted once it has signed, so nothing else can be signed with it. The certificate
# names the VIP, both proxies' addresses and names, and 127.0.0.1 (the hooks' address), so
# MySQL clients, the proxies' peer polls, the hooks and Prometheus can all verify it against
# ca.pem. Files already there are kept (delete the volume to start over).
set -eu

dir=${1:?usage: demo-certs.sh DIR [OWNER]}
owner=${2:-10001}
if [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] && [ -s "$dir/ca.pem" ]; then
  echo "demo-certs: $dir already holds ca.pem, server.pem and server.key"
  exit 0
fi
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 825 \
  -subj "/CN=galera-proxy demo CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.csr" \
  -subj "/CN=galera-proxy" 2>/dev/null
printf '%s\n' \
  "subjectAltName=IP:10.77.0.100,IP:10.77.0.21,IP:10.77.0.22,IP:127.0.0.1,DNS:proxy-a.example.net,DNS:proxy-b.example.net" \
  "extendedKeyUsage=serverAuth" >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
  -CAcreateserial -days 825 -out "$dir/server.pem" -extfile "$dir/server.ext" 2>/dev/null
rm -f "$dir/ca.key" "$dir/ca.srl" "$dir/server.csr" "$dir/server.ext"
chmod 0444 "$dir/ca.pem" "$dir/server.pem"
chown "$owner" "$dir/server.key"
chmod 0400 "$dir/server.key"
echo "demo-certs: made $dir/ca.pem and $dir/server.pem (key for uid $owner)"
