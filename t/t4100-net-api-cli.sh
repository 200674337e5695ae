#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
test_description='net api: docker network create/ls/inspect/rm/prune, filters, errors, restart'
# berthd is dialled over TCP (or wrapped into a netns by the test itself)
BERTH_TEST_HOSTNET=1
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-net.sh"

test_have_prereq ROOT,NETNS || skip_all 'needs root and network namespaces'
command -v jq >/dev/null 2>&1 || skip_all 'needs jq'
command -v docker >/dev/null 2>&1 || skip_all 'needs the docker CLI'

# berthd runs inside the test's own netns: whatever it makes (bridges,
# nftables) never lands on the real host.  The wrapper execs, so the pid
# start_daemon records is berthd's.
NS=${NETNS_PREFIX}host
mkdir -p "$TRASH/bin"
cat >"$TRASH/bin/berthd" <<EOF
#!/bin/sh
exec ip netns exec "$NS" "$BERTH_BUILD_DIR/berthd" "\$@"
EOF
chmod +x "$TRASH/bin/berthd"
PATH="$TRASH/bin:$PATH"
export PATH

host_berth_state() {
	ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
		grep -E '^(berth0|btest0|bt-par|br-)' | sort
	nft list tables 2>/dev/null | grep -w berth
	true
}
host_berth_state >"$TRASH/host.before"

# post_json PATH JSON: like api_status POST with a JSON body
post_json() {
	api_status POST "$1" -H "Content-Type: application/json" -d "$2"
}

netjson() {
	api GET "/v1.44/networks/$1"
}

test_expect_success 'start berthd in a netns' '
	net_ns_add host &&
	start_daemon
'

test_expect_success 'predefined networks: bridge, host, none with stable 64-hex ids' '
	api GET /v1.44/networks >ls.json &&
	jq -r ".[].Name" ls.json | sort >names &&
	printf "bridge\nhost\nnone\n" >expect &&
	test_cmp_names() { diff -u "$1" "$2"; } &&
	test_cmp_names expect names &&
	jq -r ".[].Id" ls.json | grep -Ec "^[0-9a-f]{64}$" >count &&
	test "$(cat count)" = 3 &&
	test "$(jq -r ".[] | select(.Name==\"none\") | .Driver" ls.json)" = null &&
	test "$(jq -r ".[] | select(.Name==\"bridge\") | .Options[\"com.docker.network.bridge.name\"]" ls.json)" = berth0 &&
	test "$(jq -r ".[0].Scope" ls.json)" = local &&
	test "$(jq -c ".[0].Containers" ls.json)" = "{}" &&
	jq -r ".[] | select(.Name==\"bridge\") | .Id" ls.json >bridge.id
'

test_expect_success 'the default bridge is not made at startup' '
	! in_ns host ip link show berth0 2>/dev/null
'

test_expect_success 'docker network create with a label prints the id' '
	docker network create --label team=x net1 >id1 &&
	grep -Eq "^[0-9a-f]{64}$" id1 &&
	docker network inspect net1 >insp.json &&
	test "$(jq -r ".[0].Id" insp.json)" = "$(cat id1)" &&
	test "$(jq -r ".[0].Labels.team" insp.json)" = x &&
	test "$(jq -r ".[0].Driver" insp.json)" = bridge &&
	test "$(jq -r ".[0].IPAM.Driver" insp.json)" = default &&
	jq -r ".[0].IPAM.Config[0].Subnet" insp.json | grep -Eq "^[0-9.]+/[0-9]+$" &&
	jq -r ".[0].IPAM.Config[0].Gateway" insp.json | grep -Eq "^[0-9.]+$" &&
	jq -r ".[0].Created" insp.json | grep -Eq "^20[0-9-]+T[0-9:.]+Z$" &&
	test "$(jq -r ".[0].ConfigFrom.Network" insp.json)" = "" &&
	test "$(jq -r ".[0].Internal" insp.json)" = false
'

test_expect_success 'the default bridge keeps its subnet: the first user network does not take it' '
	docker network inspect -f "{{(index .IPAM.Config 0).Subnet}}" bridge >bsub &&
	test "$(cat bsub)" = 172.17.0.0/16 &&
	test "$(docker network inspect -f "{{(index .IPAM.Config 0).Subnet}}" net1)" != 172.17.0.0/16
'

test_expect_success 'the same name again is 409' '
	test "$(api_status POST /v1.44/networks/create -H "Content-Type: application/json" \
		-d "{\"Name\":\"net1\",\"CheckDuplicate\":true}")" = 409 &&
	grep -q "network with name net1 already exists" body &&
	test_must_fail docker network create net1 2>err &&
	grep -q "already exists" err
'

test_expect_success 'create with subnet, gateway, ip-range, bridge name, mtu, internal' '
	docker network create --subnet 10.99.0.0/24 --gateway 10.99.0.1 --ip-range 10.99.0.128/25 \
		-o com.docker.network.bridge.name=btest0 -o com.docker.network.driver.mtu=1400 \
		--internal --label a=1 --label b= net2 >id2 &&
	docker network inspect net2 >insp2.json &&
	test "$(jq -r ".[0].IPAM.Config[0].Subnet" insp2.json)" = 10.99.0.0/24 &&
	test "$(jq -r ".[0].IPAM.Config[0].Gateway" insp2.json)" = 10.99.0.1 &&
	test "$(jq -r ".[0].IPAM.Config[0].IPRange" insp2.json)" = 10.99.0.128/25 &&
	test "$(jq -r ".[0].Internal" insp2.json)" = true &&
	test "$(jq -c ".[0].Labels" insp2.json)" = "{\"a\":\"1\",\"b\":\"\"}" &&
	test "$(jq -r ".[0].Options[\"com.docker.network.driver.mtu\"]" insp2.json)" = 1400 &&
	in_ns host ip link show btest0 >link &&
	grep -q "mtu 1400" link &&
	in_ns host ip addr show btest0 | grep -q "10.99.0.1/24"
'

test_expect_success 'bad input: overlap, invalid CIDR, gateway outside the subnet, bad MTU' '
	test "$(post_json /networks/create "{\"Name\":\"ov\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.99.0.0/16\"}]}}")" = 400 &&
	cat body && grep -qi "overlap" body &&
	test "$(post_json /networks/create "{\"Name\":\"bad\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.98.0.0/33\"}]}}")" = 400 &&
	cat body &&
	test "$(post_json /networks/create "{\"Name\":\"bad\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.98.0.0/24\",\"Gateway\":\"10.97.0.1\"}]}}")" = 400 &&
	cat body &&
	test_must_fail docker network create -o com.docker.network.driver.mtu=abc bad 2>err &&
	grep -q "invalid MTU" err &&
	test_must_fail docker network create -d nosuchdriver bad 2>err &&
	grep -q "plugin \"nosuchdriver\" not found" err &&
	test "$(post_json /networks/create "{\"Name\":\"\"}")" = 400 &&
	test "$(post_json /networks/create "{\"Name\":\"a/b\"}")" = 400 &&
	test "$(post_json /networks/create "not json")" = 400 &&
	api GET /networks | jq -r ".[].Name" | sort | tr "\n" " " >names &&
	test "$(cat names)" = "bridge host net1 net2 none "
'

test_expect_success 'predefined networks cannot be created nor removed' '
	test "$(api_status DELETE /v1.44/networks/bridge)" = 403 &&
	grep -q "pre-defined network and cannot be removed" body &&
	test_must_fail docker network rm host 2>err &&
	grep -q "pre-defined" err &&
	test "$(post_json /networks/create "{\"Name\":\"host\"}")" = 403 &&
	test "$(post_json /networks/create "{\"Name\":\"x1\",\"Driver\":\"host\"}")" = 403
'

test_expect_success 'lookups: unknown name is 404, id and unique id prefix work' '
	test "$(api_status GET /v1.44/networks/nosuch)" = 404 &&
	test "$(jq -r .message body)" = "network nosuch not found" &&
	test_must_fail docker network inspect nosuch 2>err &&
	grep -q "network nosuch not found" err &&
	test "$(netjson "$(cat id1)" | jq -r .Name)" = net1 &&
	test "$(netjson "$(cut -c1-12 id1)" | jq -r .Name)" = net1 &&
	test "$(netjson default | jq -r .Name)" = bridge
'

test_expect_success 'docker network ls filters: label, driver, type, name, id, dangling' '
	docker network ls -q --no-trunc --filter label=team=x >out &&
	test "$(cat out)" = "$(cat id1)" &&
	docker network ls --format "{{.Name}}" --filter label=a >out &&
	test "$(cat out)" = net2 &&
	docker network ls --format "{{.Name}}" --filter label=a=2 >out &&
	test ! -s out &&
	docker network ls --format "{{.Name}}" --filter type=custom | sort | tr "\n" " " >out &&
	test "$(cat out)" = "net1 net2 " &&
	docker network ls --format "{{.Name}}" --filter type=builtin | sort | tr "\n" " " >out &&
	test "$(cat out)" = "bridge host none " &&
	docker network ls --format "{{.Name}}" --filter driver=null >out &&
	test "$(cat out)" = none &&
	docker network ls --format "{{.Name}}" --filter name=et | sort | tr "\n" " " >out &&
	test "$(cat out)" = "net1 net2 " &&
	docker network ls --format "{{.Name}}" --filter id="$(cut -c1-10 id2)" >out &&
	test "$(cat out)" = net2 &&
	docker network ls --format "{{.Name}}" --filter dangling=true | sort | tr "\n" " " >out &&
	test "$(cat out)" = "net1 net2 " &&
	docker network ls --format "{{.Name}}" --filter dangling=false | sort | tr "\n" " " >out &&
	test "$(cat out)" = "bridge host none " &&
	test "$(api_status GET "/networks?filters=%7B%22type%22%3A%7B%22nope%22%3Atrue%7D%7D")" = 400 &&
	test "$(api_status GET "/networks?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D")" = 400 &&
	api GET "/v1.41/networks?filters=%7B%22label%22%3A%5B%22team%3Dx%22%5D%7D" | jq -r ".[].Name" >out &&
	test "$(cat out)" = net1
'

test_expect_success 'connect and disconnect a missing container: 404' '
	test "$(post_json /v1.44/networks/net1/connect "{\"Container\":\"ghost\"}")" = 404 &&
	test "$(jq -r .message body)" = "No such container: ghost" &&
	test "$(post_json /v1.44/networks/net1/disconnect "{\"Container\":\"ghost\",\"Force\":false}")" = 404 &&
	test "$(post_json /v1.44/networks/nosuch/connect "{\"Container\":\"ghost\"}")" = 404 &&
	test "$(jq -r .message body)" = "network nosuch not found" &&
	test_must_fail docker network connect net1 ghost 2>err &&
	grep -q "No such container: ghost" err
'

test_expect_success 'restart keeps ids, labels, options, created times' '
	docker network inspect net1 net2 bridge host none >before.json &&
	stop_daemon &&
	start_daemon &&
	docker network inspect net1 net2 bridge host none >after.json &&
	jq -c "[.[] | {Name,Id,Created,Labels,Options,IPAM,Internal}]" before.json >b &&
	jq -c "[.[] | {Name,Id,Created,Labels,Options,IPAM,Internal}]" after.json >a &&
	diff b a &&
	test "$(netjson bridge | jq -r .Id)" = "$(cat bridge.id)" &&
	in_ns host ip link show btest0 >/dev/null
'

test_expect_success 'docker network rm removes the bridge and sends destroy' '
	docker network rm net2 >out &&
	test "$(cat out)" = net2 &&
	! in_ns host ip link show btest0 2>/dev/null &&
	test "$(api_status DELETE /v1.44/networks/net2)" = 404 &&
	test "$(api_status GET /v1.44/networks/net2)" = 404
'

test_expect_success 'prune with label, label! and until filters' '
	docker network create --label keep=no p1 >/dev/null &&
	docker network create --label keep=yes p2 >/dev/null &&
	docker network create p3 >/dev/null &&
	api POST "/v1.44/networks/prune?filters=%7B%22label%22%3A%7B%22keep%3Dno%22%3Atrue%7D%7D" >out &&
	test "$(jq -c .NetworksDeleted out)" = "[\"p1\"]" &&
	api POST "/v1.44/networks/prune?filters=%7B%22until%22%3A%7B%222000-01-01T00%3A00%3A00Z%22%3Atrue%7D%7D" >out &&
	test "$(jq -c .NetworksDeleted out)" = "[]" &&
	docker network prune -f --filter "label!=keep=yes" >out &&
	grep -q p3 out && grep -q net1 out && ! grep -q p2 out &&
	api GET /networks | jq -r ".[].Name" | sort | tr "\n" " " >names &&
	test "$(cat names)" = "bridge host none p2 " &&
	test "$(api_status POST "/networks/prune?filters=%7B%22dangling%22%3A%7B%22x%22%3Atrue%7D%7D")" = 400 &&
	docker network rm p2
'

test_expect_success 'network events: create, destroy, prune' '
	api GET "/v1.44/events?since=0&until=$(date +%s.%N)&filters=%7B%22type%22%3A%7B%22network%22%3Atrue%7D%7D" >ev &&
	cat ev && grep -q "\"Action\":\"create\"" ev &&
	grep -q "\"Action\":\"destroy\"" ev &&
	grep -q "\"Action\":\"prune\"" ev &&
	grep "\"Action\":\"destroy\"" ev | grep -q "\"name\":\"p2\""
'

test_expect_success 'macvlan on a parent made by the test; a missing parent is an error' '
	in_ns host ip link add bt-par type veth peer name bt-parp &&
	docker network create -d macvlan -o parent=bt-par --subnet 10.77.0.0/24 mv1 >/dev/null &&
	test "$(netjson mv1 | jq -r .Driver)" = macvlan &&
	test "$(netjson mv1 | jq -r ".Options.parent")" = bt-par &&
	docker network rm mv1 &&
	test_must_fail docker network create -d macvlan -o parent=bt-nosuch mv2 2>err &&
	cat err &&
	test "$(api_status GET /networks/mv2)" = 404
'

test_expect_success 'compose-style create (v1.41, Attachable, exact labels)' '
	post_json /v1.41/networks/create "{\"Name\": \"rtest_backnet\", \"CheckDuplicate\": true, \"Labels\": {\"team\": \"x\", \"com.docker.compose.project\": \"rtest\", \"weird key\": \"v = 1, ü\"}, \"Attachable\": true}" >code &&
	test "$(cat code)" = 201 &&
	test "$(jq -r .Warning body)" = "" &&
	jq -r .Id body | grep -Eq "^[0-9a-f]{64}$" &&
	api GET /v1.41/networks/rtest_backnet >n.json &&
	test "$(jq -r .Attachable n.json)" = true &&
	test "$(jq -c .Labels n.json)" = "{\"team\":\"x\",\"com.docker.compose.project\":\"rtest\",\"weird key\":\"v = 1, ü\"}" &&
	test "$(jq -c .IPAM.Options n.json)" = null &&
	docker network rm rtest_backnet
'

test_expect_success 'concurrent creates: one name twice gives one 201 and one 409' '
	pids= &&
	for i in 1 2; do
		post_json /networks/create "{\"Name\":\"race\"}" >code.$i &
		pids="$pids $!"
	done &&
	wait $pids &&
	codes=$(cat code.1 code.2) &&
	{ test "$codes" = 201409 || test "$codes" = 409201; } &&
	pids= &&
	for i in 1 2 3 4; do
		post_json /networks/create "{\"Name\":\"par$i\"}" >pcode.$i &
		pids="$pids $!"
	done &&
	wait $pids &&
	test "$(cat pcode.1 pcode.2 pcode.3 pcode.4)" = "201201201201" &&
	api GET /networks | jq -r ".[] | select(.Name|startswith(\"par\")) | .IPAM.Config[0].Subnet" | sort -u | wc -l >n &&
	test "$(cat n)" = 4 &&
	docker network rm race par1 par2 par3 par4 >/dev/null
'

test_expect_success 'restart without objects.json adopts the networks net/ knows' '
	docker network create --label z=1 adopt >adopt.id &&
	stop_daemon &&
	rm "$DAEMON_DATA/network/objects.json" &&
	start_daemon &&
	test "$(netjson adopt | jq -r .Id)" = "$(cat adopt.id)" &&
	test "$(api GET /networks | jq length)" = 4 &&
	docker network rm adopt
'

test_expect_success 'stop cleanly; nothing of berth on the real host' '
	stop_daemon &&
	net_sanitizer_clean &&
	host_berth_state >host.after &&
	diff "$TRASH/host.before" host.after
'

test_done
