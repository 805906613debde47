#!/usr/bin/env bash
# test-release.sh tests, in a throw-away clone of HEAD, what scripts/release.sh
# refuses (each refusal must leave the clone as it was) and the version rules
# of scripts/lib/modules.sh that scripts/pin-dev-versions.sh and
# scripts/check-release.sh apply. scripts/check-release.sh runs it in CI; the
# whole release is checked there. It needs git and Go, not the network.
set -euo pipefail
SCRIPT_NAME=test-release.sh
cd "$(dirname "${BASH_SOURCE[0]}")/.."
head=$(git rev-parse HEAD)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q --no-checkout "$(pwd)" "$tmp/repo"
cd "$tmp/repo"
git fetch -q "$OLDPWD" "$head"
git checkout -q -B main "$head"
git config user.name test-release
git config user.email test-release@localhost
git config commit.gpgSign false
git config tag.gpgSign false
git tag -l | xargs -r git tag -d >/dev/null
. scripts/lib/modules.sh
load_modules

failures=0
passes=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# state prints what a refused release must not change: HEAD, the branches,
# the tags and the working tree.
state() {
	git rev-parse HEAD
	git symbolic-ref -q HEAD || true
	git for-each-ref --format='%(refname) %(objectname)' refs/heads refs/tags
	git status --porcelain --untracked-files=all
	git diff
}

# reset puts the clone back at main, clean, with no tags and no other branch.
reset() {
	git checkout -q -f main
	git reset -q --hard "$head"
	git clean -q -fdx
	git tag -l | xargs -r git tag -d >/dev/null
	git for-each-ref --format='%(refname:short)' refs/heads | { grep -vx main || true; } | xargs -r git branch -q -D
}

# expect_refusal NAME WANT [ENV=VALUE...] -- VERSION...: scripts/release.sh
# with those arguments must exit non-zero, say WANT on stderr and leave the
# clone as it was.
expect_refusal() {
	local name=$1 want=$2 before after out status=0
	shift 2
	local -a envs=()
	while [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	before=$(state)
	out=$(env "${envs[@]+"${envs[@]}"}" bash scripts/release.sh "$@" 2>&1 >/dev/null) || status=$?
	after=$(state)
	if [[ $status -eq 0 ]]; then
		fail "$name: release.sh $* succeeded; want a refusal saying '$want'"
	elif [[ $out != *"$want"* ]]; then
		fail "$name: release.sh $* said '$out'; want '$want'"
	elif [[ $before != "$after" ]]; then
		fail "$name: release.sh $* changed the clone: $(diff <(echo "$before") <(echo "$after"))"
	else
		passes=$((passes + 1))
	fi
}

# expect NAME GOT WANT compares two strings.
expect() {
	if [[ $2 == "$3" ]]; then
		passes=$((passes + 1))
	else
		fail "$1: got '$2', want '$3'"
	fi
}

# expect_problem NAME WANT DIR VERSION: pin_problem must report WANT (or
# nothing, when WANT is empty) for VERSION of the module in DIR.
expect_problem() {
	local got
	got=$(pin_problem "$3" "$4")
	if [[ -z $2 && -z $got ]] || [[ -n $2 && $got == *"$2"* ]]; then
		passes=$((passes + 1))
	else
		fail "$1: pin_problem $3 $4 = '$got'; want '${2:-nothing}'"
	fi
}

echo "-- usage and VERSION"
expect_refusal "no version" "usage" --
expect_refusal "two versions" "usage" -- v0.1.0 v0.2.0
for v in "" 0.1.0 v0.1 v0.1.0.0 v01.1.0 v0.01.0 v0.1.00 V0.1.0 v0.1.0- v0.1.0-rc..1 v0.1.0-01 \
	v0.1.0+build.1 "v0.1.0 " " v0.1.0" "v0.1.0
" latest v0.1.0-rc_1; do
	expect_refusal "version '$v'" "is not a semantic version" -- "$v"
done
expect_refusal "v2" "major versions from v2 on" -- v2.0.0
expect_refusal "pseudo-version" "shape of a pseudo-version" -- v0.0.0-20200101000000-0123456789ab
for v in v0.1.0 v1.2.3 v0.1.0-rc.1 v0.1.0-0rc v10.20.30-alpha.beta-1.2; do
	if is_semver "$v" && ! is_pseudo_version "$v"; then passes=$((passes + 1)); else fail "is_semver $v"; fi
done

echo "-- a working tree with changes"
echo "changed" >>README.md
expect_refusal "changed file" "working tree has changes" -- v0.1.0
git add README.md
expect_refusal "staged change" "working tree has changes" -- v0.1.0
reset
touch untracked-file
expect_refusal "untracked file" "working tree has changes" -- v0.1.0
reset

echo "-- tags and branch that exist"
for dir in "${PUBLISHED_DIRS[@]}"; do
	tag=$(tag_name "$dir" v0.1.0)
	git tag "$tag"
	expect_refusal "tag $tag exists" "tag $tag exists already" -- v0.1.0
	git tag -d "$tag" >/dev/null
done
git branch release/v0.1.0
expect_refusal "branch exists" "branch release/v0.1.0 exists already" -- v0.1.0
reset

echo "-- versions.txt and published go.mod files"
grep -v '^bench ' versions.txt >versions.new && mv versions.new versions.txt && git commit -qam "drop bench from versions.txt"
expect_refusal "unlisted module" "bench/go.mod is not listed in versions.txt" -- v0.1.0
reset
GOWORK=off go mod edit -require="$ROOT_PATH/example@$(pseudo_version HEAD)" redisstore/go.mod && git commit -qam "redisstore requires example"
expect_refusal "requires unpublished" "published module redisstore requires $ROOT_PATH/example, which versions.txt does not publish" -- v0.1.0
reset
GOWORK=off go mod edit -replace=github.com/redis/go-redis/v9=github.com/redis/go-redis/v9@v9.0.0 redisstore/go.mod && git commit -qam "replace go-redis"
expect_refusal "third-party replace" "published module redisstore replaces github.com/redis/go-redis/v9" -- v0.1.0
reset
GOWORK=off go mod edit -exclude=github.com/redis/go-redis/v9@v9.0.0 redisstore/go.mod && git commit -qam "exclude go-redis"
expect_refusal "exclude" "published module redisstore has exclude directives" -- v0.1.0
reset

echo "-- a failure half-way removes the branch"
mkdir -p "$tmp/fakego"
realgo=$(command -v go)
# shellcheck disable=SC2016 # the $1, $2 and $@ are the fake go's own
printf '#!/bin/sh\nif [ "$1 $2" = "mod tidy" ]; then echo "fake go: tidy fails" >&2; exit 1; fi\nexec "%s" "$@"\n' "$realgo" >"$tmp/fakego/go"
chmod +x "$tmp/fakego/go"
expect_refusal "tidy fails" "go mod tidy failed in" PATH="$tmp/fakego:$PATH" -- v0.1.0
reset

echo "-- which versions exist (pin_problem)"
first=$(git rev-list --max-parents=0 HEAD | tail -n 1)
expect_problem "v0.0.0" "no tag redisstore/v0.0.0" redisstore v0.0.0
expect_problem "zero pseudo-version" "not in this repository" redisstore v0.0.0-00010101000000-000000000000
expect_problem "pseudo-version of HEAD" "" redisstore "$(pseudo_version HEAD)"
expect_problem "pseudo-version of HEAD, root" "" . "$(pseudo_version HEAD)"
wrong=$(pseudo_version HEAD)
expect_problem "wrong time" "does not carry the commit time" redisstore "v0.0.0-20000101000000-${wrong##*-}"
expect_problem "module not at that commit" "has no redisstore/go.mod" redisstore "$(pseudo_version "$first")"
side=$(git commit-tree -p HEAD -m side "HEAD^{tree}")
expect_problem "commit not in HEAD's history" "not in the history of HEAD" redisstore "$(pseudo_version "$side")"
expect_problem "base tag" "with a base tag" redisstore "v0.1.1-0.20200101000000-${wrong##*-}"
expect_problem "not a version" "is not a version" redisstore latest
git tag redisstore/v0.1.0
expect_problem "tag exists" "" redisstore v0.1.0
expect_problem "tag of another module" "no tag v0.1.0" . v0.1.0
reset

echo "-- the last release (latest_release)"
expect "no tags" "$(latest_release redisstore)" ""
for t in v0.1.0 v0.2.0-rc.1 v0.10.0-rc.1 v0.9.0 v3.0.0 v0.11 v0.0.0-20200101000000-0123456789ab redisstore/v0.12.0; do git tag "$t"; done
expect "highest root release" "$(latest_release .)" "v0.10.0-rc.1"
expect "nested" "$(latest_release redisstore)" "v0.12.0"
git tag v0.10.0
expect "release after its prerelease" "$(latest_release .)" "v0.10.0"
reset

echo "-- scripts/pin-dev-versions.sh"
GOWORK=off go mod edit -require="$ROOT_PATH@v0.0.0" redisstore/go.mod
GOWORK=off go mod edit -require="$ROOT_PATH/example@v0.0.0-00010101000000-000000000000" browser/go.mod
git commit -q --allow-empty -am "requires that do not exist"
bash scripts/pin-dev-versions.sh >/dev/null
pinned=$(pseudo_version HEAD)
expect "pins v0.0.0 to HEAD" "$(own_requires redisstore)" "$ROOT_PATH $pinned"
expect "pins the zero pseudo-version to HEAD" "$(own_requires browser | grep /example)" "$ROOT_PATH/example $pinned"
for dir in "${MOD_DIRS[@]}"; do
	while read -r path v; do
		[[ -n $path ]] || continue
		expect_problem "pinned $dir -> $path" "" "${DIR_OF[$path]}" "$v"
	done <<<"$(own_requires "$dir")"
done
git commit -qam "pin"
bash scripts/pin-dev-versions.sh >/dev/null
expect "a second run changes nothing" "$(git status --porcelain)" ""
git tag v0.1.0 HEAD
git tag redisstore/v0.1.0 HEAD
bash scripts/pin-dev-versions.sh >/dev/null
expect "pins the last release" "$(own_requires cmd/scopedtoken)" "$ROOT_PATH v0.1.0
$ROOT_PATH/redisstore v0.1.0"
expect "keeps an unpublished module's pseudo-version" "$(own_requires browser | grep /example)" "$ROOT_PATH/example $pinned"
reset

echo "test-release: $passes passed, $failures failed"
[[ $failures -eq 0 ]]
