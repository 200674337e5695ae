#!/bin/sh
test_description='api: TCP with TLS and client certificates (--tlsverify), refusal without one'
# berthd is dialled over TCP (or wrapped into a netns by the test itself)
BERTH_TEST_HOSTNET=1
. "$(dirname "$0")/test-lib.sh"

test_have_prereq OPENSSL || skip_all "openssl is missing"

# listen_addr LOG: the tcp address berthd logged for its TLS listener
listen_addr() {
	sed -n 's/.*API listen on tcp:\/\/\([0-9.]*:[0-9]*\) (TLS).*/\1/p' "$1" | head -n 1
}

test_expect_success 'make a CA, a server and a client certificate' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test CA" \
		-keyout ca-key.pem -out ca.pem 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server-key.pem -out server.csr 2>/dev/null &&
	printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" >server.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
		-extfile server.ext -out server.pem 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=client" -keyout key.pem -out client.csr 2>/dev/null &&
	printf "extendedKeyUsage=clientAuth\n" >client.ext &&
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
		-extfile client.ext -out cert.pem 2>/dev/null &&
	cp ca.pem cacert.pem
'

test_expect_success 'start berthd with --tlsverify on a loopback port' '
	start_daemon -H tcp://127.0.0.1:0 --tlsverify --tlscacert "$TRASH/ca.pem" \
		--tlscert "$TRASH/server.pem" --tlskey "$TRASH/server-key.pem" &&
	ADDR=$(listen_addr "$DAEMON_LOG") &&
	test -n "$ADDR"
'

test_expect_success 'curl with the client certificate gets answers' '
	curl -sf --cacert ca.pem --cert cert.pem --key key.pem "https://$ADDR/_ping" >out &&
	test "$(cat out)" = OK &&
	curl -sf --cacert ca.pem --cert cert.pem --key key.pem "https://$ADDR/v1.44/version" >v &&
	grep -q "\"ApiVersion\":\"1.44\"" v
'

test_expect_success DOCKER 'docker --tlsverify with the client certificate' '
	DOCKER_HOST=tcp://$ADDR DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$TRASH docker version >dv &&
	grep -q "^Server: berth" dv &&
	DOCKER_HOST=tcp://$ADDR DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$TRASH docker info --format "{{.OSType}}" >di &&
	test "$(cat di)" = linux
'

test_expect_success 'without a client certificate the handshake is refused' '
	test_must_fail curl -sf --max-time 5 --cacert ca.pem "https://$ADDR/_ping" &&
	test "$(api GET /_ping)" = OK
'

test_expect_success 'a certificate from another CA is refused' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rogue" \
		-keyout rogue-key.pem -out rogue.pem 2>/dev/null &&
	test_must_fail curl -sf --max-time 5 --cacert ca.pem --cert rogue.pem --key rogue-key.pem "https://$ADDR/_ping"
'

test_expect_success 'plain HTTP to the TLS port gets nothing, and the daemon keeps serving' '
	test_must_fail curl -sf --max-time 5 "http://$ADDR/_ping" &&
	curl -sf --cacert ca.pem --cert cert.pem --key key.pem "https://$ADDR/_ping" >out &&
	test "$(cat out)" = OK
'

test_expect_success 'keep-alive over TLS: several requests on one connection' '
	curl -sf --cacert ca.pem --cert cert.pem --key key.pem -o /dev/null -o /dev/null -o /dev/null \
		"https://$ADDR/_ping" "https://$ADDR/_ping" "https://$ADDR/v1.44/info" -w "%{num_connects}\n" >out &&
	test "$(grep -c "^0$" out)" -ge 2
'

test_expect_success 'stop daemon' '
	stop_daemon
'

test_expect_success 'a bad certificate path is a clear startup error' '
	test_must_fail berthd --config-file /dev/null -H tcp://127.0.0.1:0 --tlsverify --tlscacert ca.pem \
		--tlscert /nonexistent.pem --tlskey key.pem --data-root "$TRASH/x" --exec-root "$TRASH/xe" \
		--pidfile "$TRASH/x.pid" 2>err &&
	grep -q "load TLS certificate" err
'

test_done
