#!/usr/bin/env bash
# pin-dev-versions.sh sets, in every module of versions.txt, the version at
# which it requires the other modules of this repository to a version that
# exists, so that tools which read go.mod without the replace directives
# (`go list -m -u all`, update bots, a user's `go get` of a pseudo-version)
# work on the main branch, while the replace directives keep development
# local. docs/releasing.md describes when to run it.
#
#   scripts/pin-dev-versions.sh
#
# For each such require it picks
#   1. the last release of the required module (its highest tag), if any;
#   2. else the version already there, if it exists (a pseudo-version of a
#      commit in HEAD's history);
#   3. else the pseudo-version of HEAD.
# So a second run changes nothing. It only edits go.mod files (a replaced
# module has no go.sum lines); commit them in a commit of their own, whose
# parent is then the commit the pseudo-versions name.
set -euo pipefail
SCRIPT_NAME=pin-dev-versions.sh
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/modules.sh

[[ $# -eq 0 ]] || die "usage: scripts/pin-dev-versions.sh (no arguments)"
load_modules
head=$(git rev-parse HEAD)
changed=0
for dir in "${MOD_DIRS[@]}"; do
	edits=()
	reqs=$(own_requires "$dir")
	while read -r path have; do
		[[ -n $path ]] || continue
		rdir=${DIR_OF[$path]}
		want=""
		if [[ ${MOD_KIND[$rdir]} == published ]]; then
			want=$(latest_release "$rdir")
		fi
		if [[ -z $want && -z $(pin_problem "$rdir" "$have") ]]; then
			want=$have
		fi
		if [[ -z $want ]]; then
			want=$(pseudo_version "$head")
			problem=$(pin_problem "$rdir" "$want")
			[[ -z $problem ]] || die "cannot pin $path in $dir/go.mod: $problem (commit the module first)"
		fi
		if [[ $want != "$have" ]]; then
			echo "$dir/go.mod: $path $have -> $want"
			edits+=("-require=$path@$want")
		fi
	done <<<"$reqs"
	if [[ ${#edits[@]} -gt 0 ]]; then
		GOWORK=off go mod edit "${edits[@]}" "$dir/go.mod"
		changed=$((changed + 1))
	fi
done
echo "pin-dev-versions: changed $changed go.mod file(s)"
