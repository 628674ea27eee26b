#!/usr/bin/env bash
# Plain curl against a micro server's gRPC port: Connect-style JSON over HTTP/1.1 and HTTP/2,
# and bad gRPC requests (malformed frame, oversized frame, unknown path) that must get the
# right status and leave the server serving.
# Usage: curl.sh ADDRESS DIRECTION. Prints `RESULT DIRECTION <case> PASS|FAIL <detail>`.
set -uo pipefail
ADDR="$1"
DIRECTION="$2"
BASE="http://$ADDR/grpc.testing.TestService"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
failed=0

result() {
    if [ "$2" = PASS ]; then
        echo "RESULT $DIRECTION $1 PASS"
    else
        failed=1
        echo "RESULT $DIRECTION $1 FAIL $3"
    fi
}

# json CASE HTTP_FLAG PATH CONTENT_TYPE BODY WANT_STATUS WANT_BODY_SUBSTRING
json() {
    local name="$1" flag="$2" path="$3" ctype="$4" body="$5" want="$6" substring="$7" status
    status="$(curl -sS $flag -o "$TMP/body" -w '%{http_code}' -X POST -H "content-type: $ctype" \
        --data-binary "$body" "http://$ADDR$path" 2>"$TMP/err")"
    if [ "$status" != "$want" ]; then
        result "$name" FAIL "HTTP $status, want $want: $(head -c 200 "$TMP/body") $(cat "$TMP/err")"
    elif ! grep -qF -- "$substring" "$TMP/body"; then
        result "$name" FAIL "body lacks $substring: $(head -c 200 "$TMP/body")"
    else
        result "$name" PASS
    fi
}

# grpc CASE PATH FRAME_FILE WANT_GRPC_STATUS: a gRPC request over HTTP/2 with a raw body.
grpc() {
    local name="$1" path="$2" frame="$3" want="$4" got
    curl -sS --http2-prior-knowledge -o "$TMP/body" -D "$TMP/headers" -X POST \
        -H "content-type: application/grpc" -H "te: trailers" \
        --data-binary "@$frame" "http://$ADDR$path" 2>"$TMP/err"
    # curl writes trailers after the headers in the -D dump; trailers-only answers carry the
    # status in the headers.
    got="$(tr -d '\r' <"$TMP/headers" | sed -n 's/^grpc-status: *//p' | tail -n1)"
    if [ "$got" = "$want" ]; then
        result "$name" PASS
    else
        result "$name" FAIL "grpc-status '$got', want $want: $(tr -d '\r' <"$TMP/headers" | tr '\n' ' ') $(cat "$TMP/err")"
    fi
}

for version in http1.1 http2; do
    flag="--http1.1"
    [ "$version" = http2 ] && flag="--http2-prior-knowledge"
    json "curl_json_unary_$version" "$flag" /grpc.testing.TestService/UnaryCall application/json \
        '{"responseSize": 3, "fillUsername": false}' 200 '"body":"AAAA"'
    json "curl_json_status_$version" "$flag" /grpc.testing.TestService/UnaryCall application/json \
        '{"responseStatus": {"code": 2, "message": "test status message"}}' 500 '"message":"test status message"'
done
json curl_json_unknown_path --http1.1 /grpc.testing.Nope/UnaryCall application/json '{}' 501 '"code":"unimplemented"'
json curl_json_unknown_method --http1.1 /grpc.testing.TestService/Nope application/json '{}' 501 '"code":"unimplemented"'
json curl_json_malformed --http1.1 /grpc.testing.TestService/UnaryCall application/json '{"responseSize":' 400 '"code":"invalid_argument"'
json curl_json_wrong_field_type --http1.1 /grpc.testing.TestService/UnaryCall application/json '{"responseSize":"many"}' 400 '"code":"invalid_argument"'
json curl_wrong_content_type --http1.1 /grpc.testing.TestService/UnaryCall text/plain 'hello' 415 ''

# gRPC frames: 1 byte compressed flag, 4 bytes big-endian length, then the message.
printf '\x00\x00\x00\x00\x00' >"$TMP/empty.frame"
grpc curl_grpc_empty_call /grpc.testing.TestService/EmptyCall "$TMP/empty.frame" 0
printf '\x00\x00\x00\x00\x09\x01\x02' >"$TMP/truncated.frame"
grpc curl_grpc_malformed_frame /grpc.testing.TestService/EmptyCall "$TMP/truncated.frame" 13
printf '\x00\x00\x00\x00\x03\xff\xff\xff' >"$TMP/garbage.frame"
grpc curl_grpc_malformed_message /grpc.testing.TestService/UnaryCall "$TMP/garbage.frame" 13
# A length prefix of 5 MiB, over the 4 MiB default: refused before the body is read.
printf '\x00\x00\x50\x00\x00' >"$TMP/oversized.frame"
head -c 65536 /dev/zero >>"$TMP/oversized.frame"
grpc curl_grpc_oversized_frame /grpc.testing.TestService/UnaryCall "$TMP/oversized.frame" 8
grpc curl_grpc_unknown_service /grpc.testing.Nope/EmptyCall "$TMP/empty.frame" 12
grpc curl_grpc_unknown_method /grpc.testing.TestService/Nope "$TMP/empty.frame" 12
# After all of that, the server still answers.
grpc curl_grpc_still_serving /grpc.testing.TestService/EmptyCall "$TMP/empty.frame" 0
json curl_json_still_serving --http1.1 /grpc.testing.TestService/EmptyCall application/json '{}' 200 '{}'

exit "$failed"
