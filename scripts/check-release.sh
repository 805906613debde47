#!/usr/bin/env bash
# check-release.sh checks that a release made from the current commit would
# work for its users, as they would get it from GitHub, and that the modules
# of this repository require each other at versions that exist. CI runs it
# (.ci/run); docs/releasing.md describes what it proves.
#
#   scripts/check-release.sh [VERSION]
#
# VERSION defaults to the minor version after the root's highest tag (v0.1.0
# when there is none), so that @latest must resolve to it. In order:
#   1. scripts/test-release.sh, the tests of the release scripts' refusals;
#   2. every require of one of this repository's modules, in every module,
#      names a tag that exists or a pseudo-version of a commit in HEAD's
#      history (scripts/pin-dev-versions.sh fixes those that do not), and go
#      resolves each of them from a clone;
#   3. scripts/release.sh VERSION in a throw-away clone of HEAD, and what it
#      made: one commit on HEAD, tagged for every published module, whose
#      published go.mod files have no replace and require each other at
#      VERSION;
#   4. in a new module outside the clone for each published module, as a new
#      user: go get of its packages at VERSION and a program that imports them
#      all builds, and @latest is VERSION; go install of every command of the
#      published modules at VERSION, and `scopedtoken --help` runs;
#   5. GOWORK=off go list -m -u all in every module of the release commit.
# The clone stands in for GitHub through git's insteadOf, in a module cache
# of its own; every other module comes from the local module cache or the
# module proxy. It needs nothing else: git, Go and the proxy.
set -euo pipefail
SCRIPT_NAME=check-release.sh
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/modules.sh
SECONDS=0
step() { echo "== [${SECONDS}s] $*"; }
[[ $# -le 1 ]] || die "usage: scripts/check-release.sh [VERSION]"
load_modules
head=$(git rev-parse HEAD)

step "the release scripts' refusals (scripts/test-release.sh)"
bash scripts/test-release.sh

step "requires between this repository's modules"
bad=0
pins=()
for dir in "${MOD_DIRS[@]}"; do
	reqs=$(own_requires "$dir")
	while read -r path v; do
		[[ -n $path ]] || continue
		problem=$(pin_problem "${DIR_OF[$path]}" "$v")
		if [[ -n $problem ]]; then
			echo "$dir/go.mod requires $path $v: $problem" >&2
			bad=1
		fi
		if [[ ${MOD_KIND[$dir]} == published && ${MOD_KIND[${DIR_OF[$path]}]} != published ]]; then
			echo "$dir/go.mod: published module requires $path, which versions.txt does not publish" >&2
			bad=1
		fi
		pins+=("$path@$v")
	done <<<"$reqs"
done
[[ $bad -eq 0 ]] || die "run scripts/pin-dev-versions.sh and commit its changes (docs/releasing.md)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
repo=$tmp/repo
git clone -q --no-checkout "$(pwd)" "$repo"
git -C "$repo" fetch -q "$(pwd)" "$head"
git -C "$repo" checkout -q -B check-release "$head"
git -C "$repo" config user.name check-release
git -C "$repo" config user.email check-release@localhost
git -C "$repo" config commit.gpgSign false
git -C "$repo" config tag.gpgSign false
sandbox_init "$tmp/sandbox" "$repo"

mapfile -t pins < <(printf '%s\n' "${pins[@]+"${pins[@]}"}" | sed '/^$/d' | sort -u)
for pin in "${pins[@]+"${pins[@]}"}"; do
	(cd "$tmp" && sgo mod download "$pin") || die "go cannot fetch $pin from the repository"
done
echo "ok: ${#pins[@]} distinct requires, each fetched by go from a clone"

if [[ $# -eq 1 ]]; then
	version=$1
	latest_too=false
else
	last=$(latest_release .)
	if [[ -z $last ]]; then
		version=v0.1.0
	else
		[[ $last =~ ^v([0-9]+)\.([0-9]+)\. ]]
		version=v${BASH_REMATCH[1]}.$((BASH_REMATCH[2] + 1)).0
	fi
	latest_too=true
fi

step "scripts/release.sh $version in a throw-away clone"
(cd "$repo" && bash scripts/release.sh "$version")
release=$(git -C "$repo" rev-parse "refs/tags/$version^{commit}")
[[ $(git -C "$repo" rev-parse HEAD) == "$head" ]] || die "release.sh did not go back to the commit it started from"
[[ -z $(git -C "$repo" status --porcelain --untracked-files=all) ]] || die "release.sh left changes in the working tree"
[[ $(git -C "$repo" rev-parse "$release^") == "$head" ]] || die "the release commit is not a child of $head"
mkdir -p "$tmp/gomod"
for dir in "${PUBLISHED_DIRS[@]}"; do
	tag=$(tag_name "$dir" "$version")
	[[ $(git -C "$repo" rev-parse "refs/tags/$tag^{commit}") == "$release" ]] || die "tag $tag is not on the release commit"
	file=go.mod
	[[ $dir == . ]] || file=$dir/go.mod
	git -C "$repo" show "$release:$file" >"$tmp/gomod/go.mod"
	[[ -z $(gomod_field "$tmp/gomod/go.mod" Replace) ]] || die "$tag: go.mod has a replace directive"
	reqs=$(own_requires "$dir" "$tmp/gomod/go.mod")
	while read -r path v; do
		[[ -z $path || $v == "$version" ]] || die "$tag: go.mod requires $path at $v"
	done <<<"$reqs"
done
echo "ok: release commit $release, tagged for ${#PUBLISHED_DIRS[@]} published modules"

git -C "$repo" checkout -q --detach "$release"
step "a new user's module for each published module, from the tags"
commands=()
for dir in "${PUBLISHED_DIRS[@]}"; do
	module=${MOD_PATH[$dir]}
	listing=$(cd "$repo/$dir" && sgo list -f '{{.Name}} {{.ImportPath}}' ./...)
	pkgs=() mains=()
	while read -r name pkg; do
		if [[ $pkg == */internal || $pkg == */internal/* ]]; then
			continue
		elif [[ $name == main ]]; then
			mains+=("$pkg@$version")
		else
			pkgs+=("$pkg")
		fi
	done <<<"$listing"
	[[ ${#mains[@]} -eq 0 ]] || commands+=("${mains[*]}")
	[[ ${#pkgs[@]} -gt 0 ]] || continue
	user=$tmp/user/${dir//\//-}
	mkdir -p "$user"
	{
		echo "package main"
		echo
		printf 'import _ "%s"\n' "${pkgs[@]}"
		echo
		echo "func main() {}"
	} >"$user/main.go"
	cd "$user"
	sgo mod init example.com/user 2>/dev/null || die "go mod init failed in $user"
	sgo get "${pkgs[@]/%/@$version}" || die "a new module cannot go get $module $version"
	sgo build -o /dev/null . || die "a program importing ${pkgs[*]} does not build"
	got=$(sgo list -m -f '{{.Version}}' "$module")
	[[ $got == "$version" ]] || die "$module: the new module got $got, not $version"
	if $latest_too; then
		got=$(sgo list -m -f '{{.Version}}' "$module@latest")
		[[ $got == "$version" ]] || die "$module@latest is $got, not $version"
	fi
	cd - >/dev/null
	echo "ok: go get ${pkgs[*]/%/@$version}; go build"
done

step "go install of the published commands at $version"
for cmds in "${commands[@]}"; do
	# shellcheck disable=SC2086 # one word a command, all of one module
	sgo install $cmds || die "go install $cmds failed"
	echo "ok: go install $cmds"
done
cli=$tmp/sandbox/bin/scopedtoken
[[ -x $cli ]] || die "go install made no scopedtoken binary"
help=$("$cli" --help) || die "scopedtoken --help failed"
[[ $help == "Usage: scopedtoken "* ]] || die "scopedtoken --help printed: $help"
echo "ok: scopedtoken --help: ${help%%$'\n'*}"
built=$(go version -m "$cli")
while read -r kind path v _; do
	[[ ($kind == mod || $kind == dep) && ($path == "$ROOT_PATH" || $path == "$ROOT_PATH"/*) ]] || continue
	[[ $v == "$version" ]] || die "scopedtoken was built with $path $v, not $version"
	echo "ok: scopedtoken binary: $kind $path $v"
done <<<"$built"

step "GOWORK=off go list -m -u all in each module of the release commit"
for dir in "${MOD_DIRS[@]}"; do
	(cd "$repo/$dir" && sgo list -m -u all >/dev/null) || die "go list -m -u all fails in $dir"
done
echo "ok: ${#MOD_DIRS[@]} modules"

echo "check-release: a release $version of $head installs for its users (${SECONDS}s)"
