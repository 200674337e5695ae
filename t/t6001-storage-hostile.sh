#!/bin/sh
test_description='storage: layer features (PAX, long names, xattrs, links, devices, sparse) and hostile archives'
. "$(dirname "$0")/test-lib.sh"
. "$BERTH_SRC_DIR/t/lib-storage.sh"

ROOT=$TRASH/root
export ROOT
mkdir -p "$TRASH/outside"
echo original >"$TRASH/outside/target"

# load_layer LAYER.tar: wrap one layer in a docker-archive and load it
load_layer() {
	make_docker_archive "$TRASH/wrap.tar" "" "$1" &&
	st load "$TRASH/wrap.tar"
}

# store_clean: nothing staged, no layer, no image, consistent
store_clean() {
	test -z "$(ls "$ROOT/tmp")" &&
	test -z "$(ls "$ROOT/image/layerdb/sha256")" &&
	test -z "$(ls "$ROOT/image/imagedb/content/sha256")" &&
	test "$(ls "$ROOT/overlay")" = l &&
	st check
}

# outside_intact: nothing escaped the store
outside_intact() {
	test "$(ls "$TRASH/outside")" = target &&
	test "$(cat "$TRASH/outside/target")" = original &&
	! find "$TRASH" -name "pwned*" | grep .
}

test_expect_success ROOT 'PAX, GNU long names, xattrs, hard links, devices, sparse files' '
	mkdir -p feat/dir &&
	echo data >feat/dir/file &&
	ln feat/dir/file feat/dir/hard &&
	long=$(printf "d%.0s" $(seq 1 120)) &&
	mkdir -p "feat/$long" && echo deep >"feat/$long/$(printf "f%.0s" $(seq 1 150))" &&
	mknod feat/null c 1 3 &&
	mkfifo feat/fifo &&
	dd if=/dev/zero of=feat/sparse bs=1 count=0 seek=64M 2>/dev/null &&
	echo end >>feat/sparse &&
	ln -s dir/file feat/link &&
	(cd feat && tar --format=pax --sparse --numeric-owner -cf ../f1.tar .) &&
	(cd feat && tar --format=gnu --sparse --numeric-owner -cf ../f2.tar .) &&
	for f in f1 f2; do
		load_layer $f.tar >out || return 1
		id=$(sed -n "s/Loaded image ID: //p" out)
		diff=$(st inspect "$id" | sed -n "s/.*\"UpperDir\":\"\([^\"]*\)\".*/\1/p")
		test "$(cat "$diff/dir/file")" = data || return 1
		test "$(stat -c %i "$diff/dir/file")" = "$(stat -c %i "$diff/dir/hard")" || return 1
		test "$(cat "$diff/$long/$(printf "f%.0s" $(seq 1 150))")" = deep || return 1
		test -c "$diff/null" && test -p "$diff/fifo" || return 1
		test "$(readlink "$diff/link")" = dir/file || return 1
		test "$(stat -c %s "$diff/sparse")" = $((64 * 1024 * 1024 + 4)) || return 1
		test "$(du -k "$diff/sparse" | cut -f1)" -lt 1024 || return 1
	done
'

test_expect_success ROOT 'PAX xattrs are kept, overlay xattrs from archives are not' '
	storage-tool mktar x.tar d:d x:d/f:user.foo=bar x:d/g:trusted.overlay.redirect=/etc &&
	load_layer x.tar >out &&
	id=$(sed -n "s/Loaded image ID: //p" out) &&
	diff=$(st inspect "$id" | sed -n "s/.*\"UpperDir\":\"\([^\"]*\)\".*/\1/p") &&
	test "$(storage-tool getxattr "$diff/d/f" user.foo)" = bar &&
	test_must_fail storage-tool getxattr "$diff/d/g" trusted.overlay.redirect
'

test_expect_success ROOT 'opaque dirs and whiteouts in a layer' '
	storage-tool mktar w.tar d:a f:a/.wh..wh..opq f:a/keep:k f:.wh.gone &&
	load_layer w.tar >out &&
	id=$(sed -n "s/Loaded image ID: //p" out) &&
	diff=$(st inspect "$id" | sed -n "s/.*\"UpperDir\":\"\([^\"]*\)\".*/\1/p") &&
	test "$(storage-tool getxattr "$diff/a" trusted.overlay.opaque)" = y &&
	test -c "$diff/gone" &&
	test ! -e "$diff/a/.wh..wh..opq" &&
	st prune --all >/dev/null && store_clean
'

hostile() {
	_name=$1
	_entry=$2
	shift 2
	test_expect_success ROOT "hostile: $_name" "
		storage-tool mktar h.tar $* &&
		test_must_fail load_layer h.tar 2>err &&
		grep 'hostile archive entry' err &&
		grep -F '\"$_entry\"' err &&
		outside_intact &&
		store_clean
	"
}

hostile 'dot-dot path' '../pwned' f:../pwned:x
hostile 'deep dot-dot path' 'a/../../pwned' d:a f:a/../../pwned:x
hostile 'absolute path' "$TRASH/outside/pwned" "f:$TRASH/outside/pwned:x"
hostile 'through an absolute symlink' 'l/pwned' "s:l:$TRASH/outside" f:l/pwned:x
hostile 'through a relative symlink' 'l/pwned' "s:l:../../../../../../../../..$TRASH/outside" f:l/pwned:x
hostile 'directory through a symlink' 'l/pwned/x' "s:l:$TRASH/outside" f:l/pwned/x:x
hostile 'hard link to outside' 'pwned' "h:pwned:../../../../../../../..$TRASH/outside/target"
hostile 'hard link through a symlink' 'pwned' "s:l:$TRASH/outside" h:pwned:l/target
hostile 'whiteout through a symlink' 'l/.wh.target' "s:l:$TRASH/outside" f:l/.wh.target

test_expect_success ROOT 'a file over a symlink replaces the link, never writes through it' '
	storage-tool mktar o.tar "s:t:$TRASH/outside/target" f:t:pwned &&
	load_layer o.tar >out &&
	outside_intact &&
	id=$(sed -n "s/Loaded image ID: //p" out) &&
	diff=$(st inspect "$id" | sed -n "s/.*\"UpperDir\":\"\([^\"]*\)\".*/\1/p") &&
	test ! -L "$diff/t" && test "$(cat "$diff/t")" = pwned &&
	st prune --all >/dev/null && store_clean
'

test_expect_success 'hostile names in the outer archive are refused' '
	storage-tool mktar outer.tar f:../pwned:x f:manifest.json:[] &&
	test_must_fail st load outer.tar 2>err &&
	grep "\"../pwned\"" err &&
	outside_intact &&
	store_clean
'

test_expect_success 'garbage input fails cleanly' '
	head -c 5000 /dev/urandom >junk &&
	test_must_fail st load junk &&
	: >empty && test_must_fail st load empty &&
	store_clean
'

test_done
