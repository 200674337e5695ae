# SPDX-License-Identifier: Apache-2.0
# t/lib-storage.sh -- helpers for storage tests: build image archives by
# hand from the host's static busybox (no engine needed).

# st ARGS...: storage-tool on the test's data root ($ROOT)
st() {
	[ -n "${ROOT:-}" ] || { echo "st: ROOT is not set" >&2; return 2; }
	storage-tool ${MIN_FREE:+--min-free "$MIN_FREE"} "$ROOT" "$@"
}

sha256_of() {
	sha256sum "$1" | cut -d' ' -f1
}

# make_rootfs DIR: a minimal busybox root
make_rootfs() {
	mkdir -p "$1/bin" "$1/etc" "$1/tmp" &&
	cp /bin/busybox "$1/bin/busybox" &&
	ln -sf busybox "$1/bin/sh" &&
	ln -sf busybox "$1/bin/ls" &&
	echo "root:x:0:0:root:/root:/bin/sh" >"$1/etc/passwd" &&
	chmod 1777 "$1/tmp"
}

# make_config OUT DIFFID... : an image config with those layers
make_config() {
	_mc_out=$1
	shift
	_ids=
	_hist=
	for _d in "$@"; do
		_ids="$_ids${_ids:+,}\"sha256:$_d\""
		_hist="$_hist${_hist:+,}{\"created\":\"2026-01-01T00:00:00Z\",\"created_by\":\"layer $_d\"}"
	done
	printf '{"architecture":"amd64","config":{"Cmd":["sh"],"Env":["PATH=/bin"],"Labels":{"made-by":"t6000"}},"created":"2026-01-01T00:00:00Z","history":[%s],"os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' "$_hist" "$_ids" >"$_mc_out"
}

# make_docker_archive OUT TAG LAYER.tar...: legacy docker save layout
make_docker_archive() {
	_out=$1
	_tag=$2
	shift 2
	_w=$(mktemp -d "$TRASH/da.XXXXXX")
	_diffs=
	_layers=
	for _l in "$@"; do
		_h=$(sha256_of "$_l")
		mkdir -p "$_w/$_h"
		cp "$_l" "$_w/$_h/layer.tar"
		echo 1.0 >"$_w/$_h/VERSION"
		echo "{\"id\":\"$_h\"}" >"$_w/$_h/json"
		_diffs="$_diffs $_h"
		_layers="$_layers${_layers:+,}\"$_h/layer.tar\""
	done
	# shellcheck disable=SC2086
	make_config "$_w/config.json" $_diffs
	_c=$(sha256_of "$_w/config.json")
	mv "$_w/config.json" "$_w/$_c.json"
	if [ -n "$_tag" ]; then
		printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$_c" "$_tag" "$_layers" >"$_w/manifest.json"
	else
		printf '[{"Config":"%s.json","RepoTags":null,"Layers":[%s]}]' "$_c" "$_layers" >"$_w/manifest.json"
	fi
	(cd "$_w" && tar -cf "$_out" .) &&
	echo "sha256:$_c" >"$_out.id"
	rm -rf "$_w"
}

# make_oci_layout OUT NAME LAYER.tar...: OCI image layout, gzip layers
make_oci_layout() {
	_out=$1
	_name=$2
	shift 2
	_w=$(mktemp -d "$TRASH/oci.XXXXXX")
	mkdir -p "$_w/blobs/sha256"
	_diffs=
	_ml=
	for _l in "$@"; do
		_d=$(sha256_of "$_l")
		gzip -c -n "$_l" >"$_w/gz"
		_g=$(sha256_of "$_w/gz")
		_gs=$(stat -c %s "$_w/gz")
		mv "$_w/gz" "$_w/blobs/sha256/$_g"
		_diffs="$_diffs $_d"
		_ml="$_ml${_ml:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$_g\",\"size\":$_gs}"
	done
	# shellcheck disable=SC2086
	make_config "$_w/c.json" $_diffs
	_c=$(sha256_of "$_w/c.json")
	_cs=$(stat -c %s "$_w/c.json")
	mv "$_w/c.json" "$_w/blobs/sha256/$_c"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$_c" "$_cs" "$_ml" >"$_w/m.json"
	_m=$(sha256_of "$_w/m.json")
	_ms=$(stat -c %s "$_w/m.json")
	mv "$_w/m.json" "$_w/blobs/sha256/$_m"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' "$_m" "$_ms" "$_name" >"$_w/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$_w/oci-layout"
	(cd "$_w" && tar -cf "$_out" oci-layout index.json blobs) &&
	echo "sha256:$_c" >"$_out.id"
	rm -rf "$_w"
}

# tar_of DIR OUT: a layer tar of DIR's content
tar_of() {
	(cd "$1" && tar --numeric-owner -cf "$2" .)
}
