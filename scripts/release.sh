#!/usr/bin/env bash
# release.sh makes a release of every module that versions.txt publishes, in
# this clone and locally: it never pushes. docs/releasing.md is the procedure.
#
#   scripts/release.sh VERSION        (such as v0.1.0 or v0.2.0-rc.1)
#
# From the current commit it makes the branch release/VERSION with one release
# commit, on which
#   - every require of a published module of this repository is at VERSION,
#     in every module (the unpublished ones keep their replace directives);
#   - no published module has a replace or exclude directive, so that each
#     builds, and `go install`s, exactly as its users get it;
#   - the go.mod and go.sum of each published module are tidy, with the sums
#     of this repository's modules at VERSION as the tags below give them;
# checks that every published module builds from tags on that commit with
# GOWORK=off and -mod=readonly, tags it VERSION (the root) and DIR/VERSION
# (each nested published module), and goes back to the branch it started on.
#
# It refuses a VERSION that is not semver, a working tree with changes or
# untracked files, and a tag or branch that exists already. On any failure it
# deletes the branch and tags it made.
set -euo pipefail
SCRIPT_NAME=release.sh
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/modules.sh

[[ $# -eq 1 ]] || die "usage: scripts/release.sh VERSION (such as v0.1.0)"
version=$1
problem=$(release_version_problem "$version")
[[ -z $problem ]] || die "$problem"

[[ $(git rev-parse --show-toplevel) == "$(pwd -P)" ]] || die "$(pwd) is not the top of a git clone"
dirty=$(git status --porcelain --untracked-files=all)
[[ -z $dirty ]] || die "the working tree has changes; commit or stash them first:
$dirty"

load_modules

tags=()
for dir in "${PUBLISHED_DIRS[@]}"; do
	tags+=("$(tag_name "$dir" "$version")")
done
for tag in "${tags[@]}"; do
	! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || die "tag $tag exists already (git fetch --tags first, to see every published tag)"
done
branch=release/$version
! git rev-parse -q --verify "refs/heads/$branch" >/dev/null || die "branch $branch exists already"

# A published module must build as its users get it: it may require only
# published modules of this repository (they come at VERSION) and may keep
# no replace or exclude directive once its replaces of this repository's
# modules are dropped.
for dir in "${PUBLISHED_DIRS[@]}"; do
	reqs=$(own_requires "$dir")
	while read -r path _; do
		[[ -z $path || ${MOD_KIND[${DIR_OF[$path]}]} == published ]] ||
			die "published module $dir requires $path, which versions.txt does not publish"
	done <<<"$reqs"
	replaces=$(gomod_field "$dir/go.mod" Replace)
	while read -r path _; do
		[[ -z $path || -n ${DIR_OF[$path]:-} ]] ||
			die "published module $dir replaces $path: its users would not get that replacement"
	done <<<"$replaces"
	excludes=$(gomod_field "$dir/go.mod" Exclude)
	[[ -z $excludes ]] || die "published module $dir has exclude directives, which its users would not get"
done

start=$(git symbolic-ref -q --short HEAD || git rev-parse HEAD)
base=$(git rev-parse HEAD)
tmp=$(mktemp -d)
made_branch=false
made_tags=()
cleanup() {
	local status=$?
	if [[ $status -ne 0 ]]; then
		if $made_branch; then
			git checkout -q -f "$start"
			git branch -q -D "$branch"
		fi
		for tag in "${made_tags[@]}"; do
			git tag -d "$tag" >/dev/null
		done
		echo "release.sh: failed; removed the branch and tags it had made" >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "== release $version from $base: branch $branch"
git checkout -q -b "$branch"
made_branch=true

for dir in "${MOD_DIRS[@]}"; do
	edits=()
	reqs=$(own_requires "$dir")
	while read -r path _; do
		if [[ -n $path && ${MOD_KIND[${DIR_OF[$path]}]} == published ]]; then
			edits+=("-require=$path@$version")
		fi
	done <<<"$reqs"
	if [[ ${MOD_KIND[$dir]} == published ]]; then
		replaces=$(gomod_field "$dir/go.mod" Replace)
		while read -r path old; do
			if [[ -z $path ]]; then
				continue
			elif [[ $old == - ]]; then
				edits+=("-dropreplace=$path")
			else
				edits+=("-dropreplace=$path@$old")
			fi
		done <<<"$replaces"
	fi
	if [[ ${#edits[@]} -gt 0 ]]; then
		GOWORK=off go mod edit "${edits[@]}" "$dir/go.mod"
	fi
done

# The sums of a module at VERSION are those of the files at the tagged commit,
# go.sum files included: a go.sum that changes changes the sums of its module.
# So tidy against a scratch repository whose tags point at the current release
# commit, amend, and repeat until no go.sum changes (one round per level of
# requires, plus one).
git init -q --bare "$tmp/repo.git"
if [[ -n $(git tag --list) ]]; then
	git push -q "$tmp/repo.git" 'refs/tags/*:refs/tags/*'
fi
sandbox_init "$tmp" "$tmp/repo.git"
git add -A
git commit -q -m "Release $version" -m "Made by scripts/release.sh from $base.
Every published module of versions.txt requires the others at $version
and has no replace directive (docs/releasing.md).

Tags: ${tags[*]}"
rounds=0
while :; do
	rounds=$((rounds + 1))
	[[ $rounds -le $((${#PUBLISHED_DIRS[@]} + 1)) ]] || die "the go.sum files did not settle after $((rounds - 1)) rounds of go mod tidy"
	refs=()
	for tag in "${tags[@]}"; do
		refs+=("+HEAD:refs/tags/$tag")
	done
	git push -q -f "$tmp/repo.git" "${refs[@]}"
	sandbox_forget
	for dir in "${PUBLISHED_DIRS[@]}"; do
		if [[ -f $dir/go.sum ]]; then
			awk -v root="$ROOT_PATH" '!($1 == root || index($1, root "/") == 1)' "$dir/go.sum" >"$tmp/go.sum"
			cat "$tmp/go.sum" >"$dir/go.sum"
		fi
		(cd "$dir" && sgo mod tidy) || die "go mod tidy failed in $dir"
	done
	git add -A
	if git diff --cached --quiet; then
		break
	fi
	git commit -q --amend --no-edit
done
release=$(git rev-parse HEAD)
echo "== release commit $release (go.sum settled in $rounds rounds of go mod tidy)"

# Each published module must now build from the tags alone, as its users
# build it: no replace, no go.work, nothing to add to go.mod or go.sum
# (-mod=readonly) for its module graph, its packages or their tests, which
# `go list -export` compiles (without linking the commands, which
# scripts/check-release.sh installs). The new module cache makes go check
# every module it fetches against go.sum, so `go mod verify` would add
# nothing.
sandbox_forget
for dir in "${PUBLISHED_DIRS[@]}"; do
	echo "-- $dir: go list -m all; go list -export -deps -test ./..."
	[[ -z $(gomod_field "$dir/go.mod" Replace) ]] || die "$dir/go.mod still has a replace directive"
	reqs=$(own_requires "$dir")
	while read -r path v; do
		[[ -z $path || $v == "$version" ]] || die "$dir/go.mod requires $path at $v, not $version"
	done <<<"$reqs"
	(cd "$dir" && sgo list -m all >/dev/null && sgo list -export -deps -test ./... >/dev/null) ||
		die "$dir does not build from the tags with GOWORK=off and -mod=readonly"
done
[[ -z $(git status --porcelain --untracked-files=all) ]] || die "building changed the tree: $(git status --porcelain)"

for tag in "${tags[@]}"; do
	git tag -a -m "scopedtoken $tag" "$tag" "$release"
	made_tags+=("$tag")
done
git checkout -q "$start"

cat <<EOF
== released $version locally (nothing pushed)
release commit: $release on branch $branch (parent $base)
tags: ${tags[*]}
Look at it:  git show --stat $release
Publish it:  git push origin ${tags[*]}
Then, on the main branch, require the release: scripts/pin-dev-versions.sh (docs/releasing.md).
EOF
