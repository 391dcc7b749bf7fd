#!/bin/bash
# SPDX-License-Identifier: MIT
# berth's own HTTP client (src/shared/http-client.c, through fetch.h as the
# composer and the update agent use it) against a real server on loopback
# (tests/fixtures/http-faults.py, over HTTP and HTTPS): a download cut in
# the middle resumes with Range, chunked and close-delimited bodies,
# redirects and their bound, 404/500/hang give one error naming the URL,
# HTTPS verifies the peer against the CA store.
set -uo pipefail
. "${BERTH_SOURCE_ROOT:?}/tests/lib.sh"

TOOL=${HTTP_TOOL:?}
need python3
need openssl
TMP=$(mktemp -d /tmp/berth-test-http-XXXXXX)
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        rm -rf "$TMP"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# start NAME [CERT KEY]: a server on a free port; its URL base in $BASE.
start() {
        local name=$1 p
        shift
        p=$(port)
        python3 "$BERTH_SOURCE_ROOT/tests/fixtures/http-faults.py" "$TMP/www" "$p" "$@" \
                > "$TMP/$name.out" 2> "$TMP/$name.log" &
        PIDS+=("$!")
        for _ in $(seq 1 50); do grep -q ready "$TMP/$name.out" 2>/dev/null && break; sleep 0.1; done
        BASE=$p
}
same() { cmp -s "$TMP/www/$1" "$2"; }
# fetch ARGS...: http-tool; its stderr in $TMP/err.
fetch() { "$TOOL" "$@" > /dev/null 2> "$TMP/err"; }
err_has() { grep -Eq "$1" "$TMP/err" || { echo "       got: $(cat "$TMP/err")"; return 1; }; }

mkdir -p "$TMP/www" "$TMP/dl"
head -c 3000000 /dev/urandom > "$TMP/www/big"
printf 'small file\n' > "$TMP/www/small"
SUM=$(sha256sum < "$TMP/www/big" | cut -d' ' -f1)
start http
H=http://127.0.0.1:$BASE

step "bodies"
check "plain GET (Content-Length)" bash -c "'$TOOL' '$H/big' '$TMP/dl/a' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/a'"
check "chunked body" bash -c "'$TOOL' '$H/chunked/big' '$TMP/dl/b' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/b'"
check "body until the connection closes" bash -c "'$TOOL' '$H/close/big' '$TMP/dl/c' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/c'"
check "four files on two kept-alive connections" bash -c "'$TOOL' --jobs 2 '$H/big' '$TMP/dl/k1' '$H/small' '$TMP/dl/k2' \
        '$H/chunked/small' '$TMP/dl/k3' '$H/big' '$TMP/dl/k4' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/k4' && cmp -s '$TMP/www/small' '$TMP/dl/k3'"

step "resume"
# The server sends half the file and closes; the next try asks for the rest.
check "a cut download resumes with Range and verifies" \
        bash -c "'$TOOL' --sha256 $SUM --size 3000000 '$H/cut/big' '$TMP/dl/cut' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/cut'"
check "the second request asked for bytes=1500000-" grep -q "GET /big bytes=1500000- 206" "$TMP/http.log"
check "the partial file is gone" test ! -e "$TMP/dl/cut.partial"
# A partial file from an earlier run (a reboot in between): the first request resumes.
head -c 1000000 "$TMP/www/big" > "$TMP/dl/pre.partial"
check "a partial file from before is resumed" \
        bash -c "'$TOOL' --sha256 $SUM --size 3000000 '$H/big' '$TMP/dl/pre' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/pre'"
check "with one Range request" grep -q "GET /big bytes=1000000- 206" "$TMP/http.log"

step "redirects"
check "five redirects are followed" bash -c "'$TOOL' '$H/redirect/5/small' '$TMP/dl/r5' >/dev/null && cmp -s '$TMP/www/small' '$TMP/dl/r5'"
check_fails "six are not" fetch "$H/redirect/6/small" "$TMP/dl/r6"
check "the error says so" err_has "$H/redirect/6/small: more than 5 redirects"

step "errors name the URL and the status"
check_fails "404 fails" fetch "$H/status/404" "$TMP/dl/x"
check "404: one line with URL and status" err_has "^error: $H/status/404: HTTP 404 Not Found\$"
check "404: no empty partial file left behind" test ! -e "$TMP/dl/x.partial"
check_fails "500 fails" fetch "$H/status/500" "$TMP/dl/x"
check "500: one line with URL and status" err_has "^error: $H/status/500: HTTP 500 Internal Server Error\$"
check "500 was tried three times" test "$(grep -c 'GET /status/500' "$TMP/http.log")" = 3
t0=$SECONDS
check_fails "a hanging server fails" fetch --timeout 1 "$H/hang/small" "$TMP/dl/x"
check "hang: timed out, naming the URL" err_has "^error: $H/hang/small: timed out after 3 tries \(no data from 127.0.0.1 for 1 s\)\$"
check "hang: given up within 3 read timeouts and a bit ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 6
check_fails "a refused connection fails" fetch "http://127.0.0.1:$(port)/x" "$TMP/dl/x"
check "refused: says so" err_has "cannot connect to 127.0.0.1 port [0-9]+: Connection refused"
check_fails "a wrong size fails" fetch --size 5 "$H/small" "$TMP/dl/x"
check "wrong size: says so" err_has "^error: $H/small: more data than the expected 5 bytes\$"
check_fails "not http" fetch "ftp://127.0.0.1/x" "$TMP/dl/x"
check "not http: says so" err_has "ftp://127.0.0.1/x: not an http:// or https:// URL"

step "https"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=berth-test \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
start https "$TMP/cert.pem" "$TMP/key.pem"
S=https://127.0.0.1:$BASE
check "https GET with the test CA (SSL_CERT_FILE)" bash -c "SSL_CERT_FILE='$TMP/cert.pem' '$TOOL' '$S/chunked/big' '$TMP/dl/s1' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/s1'"
check "https by host name" bash -c "SSL_CERT_FILE='$TMP/cert.pem' '$TOOL' 'https://localhost:$BASE/redirect/2/small' '$TMP/dl/s2' >/dev/null"
check "https resumes a cut download" bash -c "SSL_CERT_FILE='$TMP/cert.pem' '$TOOL' --sha256 $SUM --size 3000000 '$S/cut/big' '$TMP/dl/s3' >/dev/null && cmp -s '$TMP/www/big' '$TMP/dl/s3'"
check_fails "an untrusted certificate fails" fetch "$S/small" "$TMP/dl/x"
check "untrusted: says why" err_has "^error: $S/small: TLS: the certificate of 127.0.0.1 is not trusted: self-signed certificate\$"
check_fails "a name the certificate does not hold fails" env SSL_CERT_FILE="$TMP/cert.pem" "$TOOL" "https://127.0.0.2:$BASE/small" "$TMP/dl/x"
finish
