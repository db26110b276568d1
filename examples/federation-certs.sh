#!/usr/bin/env bash
# Certificates and keys for a federation across machines, made offline (openssl, ssh-keygen):
#
#   bash examples/federation-certs.sh DIR SUPERLINK_HOST NODE_NAME...
#
# DIR/ca.pem             the CA every SuperNode and the coordinator trust (--root-certificates)
# DIR/superlink.{pem,key} the SuperLink's TLS certificate (for SUPERLINK_HOST: a DNS name or an IP)
# DIR/NODE_NAME{,.pub}   each SuperNode's P-384 key pair (OpenSSH format, as Flower reads it):
#                        the private key goes to --auth-key, the public one to `flwr supernode register`
# The CA key (DIR/ca.key) signs nothing else: keep it offline. Nothing is overwritten.
set -euo pipefail
dir=${1:?usage: $0 DIR SUPERLINK_HOST NODE_NAME...}; host=${2:?usage: $0 DIR SUPERLINK_HOST NODE_NAME...}; shift 2
mkdir -p "$dir"; cd "$dir"; umask 077
for name in ca.key ca.pem superlink.key superlink.pem "$@"; do
  if [ -e "$name" ]; then echo "error: $dir/$name exists; choose a new DIR" >&2; exit 2; fi
done
if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san="IP:$host"; else san="DNS:$host"; fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 365 -subj "/CN=fedstake federation CA" \
  -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj "/CN=$host" \
  -keyout superlink.key -out superlink.csr 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
  "$san" > superlink.ext
openssl x509 -req -in superlink.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -extfile superlink.ext \
  -out superlink.pem 2>/dev/null
rm -f superlink.csr superlink.ext ca.srl
for name in "$@"; do ssh-keygen -q -t ecdsa -b 384 -N "" -C "$name" -f "$name"; done
chmod 644 ca.pem superlink.pem ./*.pub 2>/dev/null || true
echo "CA, SuperLink certificate for $host and $# node key pair(s) in $dir"
