# prereqs.sh installs the programs that scripts/test-all.sh's tests run and
# Go does not fetch itself: Debian's redis-server (the Redis revocation
# store's tests start it), chromium (the browser/ module's tests drive
# it) and nodejs and npm (the browser/ module's DPoP test runs panva's dpop
# with them). It is sourced from scripts/test-all.sh, never run. README.md ("Two
# commands") describes it.

# prereq_has reports whether one of the commands named is on PATH.
prereq_has() {
	local name
	for name in "$@"; do
		command -v "$name" >/dev/null 2>&1 && return 0
	done
	return 1
}

# install_prereqs installs, with apt-get, every Debian package named that is
# missing: directly as root, else through passwordless sudo (sudo -n). Where
# it can do neither (no apt-get, or not root and no passwordless sudo) it
# stops at once and prints the exact command that would install them, so that
# the tests never start only to fail half-way. Arguments: the packages.
install_prereqs() {
	[[ $# -gt 0 ]] || return 0
	local cmd="apt-get update && apt-get install -y $*"
	local -a run=()
	if [[ $(id -u) -eq 0 ]]; then
		run=()
	elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
		run=(sudo -n)
	else
		run=(none)
	fi
	if ! command -v apt-get >/dev/null 2>&1 || [[ "${run[*]-}" == none ]]; then
		echo "test-all: the tests need $* and this script cannot install them here" >&2
		if command -v apt-get >/dev/null 2>&1; then
			echo "test-all: run this as root, then this script again:" >&2
			echo "  $cmd" >&2
			echo "test-all: (or, with sudo: sudo sh -c '$cmd')" >&2
		else
			echo "test-all: install the package(s) $* with your system's package manager (on Debian: sudo sh -c '$cmd')" >&2
		fi
		[[ " $* " == *" redis-server "* ]] &&
			echo "test-all: or skip the Redis tests: SCOPEDTOKEN_SKIP_REDIS=1 bash scripts/test-all.sh" >&2
		exit 1
	fi
	echo "test-all: installing $* with apt-get${run[*]:+ through ${run[*]}}"
	"${run[@]}" apt-get update -qq
	"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# missing_prereqs prints the Debian packages that the modules named (module
# directories relative to the repository root) need and that are not on PATH:
# redis-server for the modules whose tests start Redis, unless
# SCOPEDTOKEN_SKIP_REDIS=1, and chromium, nodejs and npm for browser/.
missing_prereqs() {
	local dir redis="" browser=""
	for dir in "$@"; do
		case "$dir" in
		redisstore | cmd/scopedtoken | example | integrations) redis=1 ;;
		browser) browser=1 redis=1 ;; # TestDemoDPoPBlackBox starts Redis too
		esac
	done
	if [[ -n "$redis" && "${SCOPEDTOKEN_SKIP_REDIS:-}" != 1 ]] && ! prereq_has redis-server; then
		echo redis-server
	fi
	# browser/kit_test.go accepts any of these names.
	if [[ -n "$browser" ]] && ! prereq_has chromium chromium-browser google-chrome; then
		echo chromium
	fi
	# browser/dpop_node_test.go runs node and npm; it never skips without them.
	if [[ -n "$browser" ]] && ! prereq_has node; then
		echo nodejs
	fi
	if [[ -n "$browser" ]] && ! prereq_has npm; then
		echo npm
	fi
}
