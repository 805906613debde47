# modules.sh holds what scripts/release.sh, scripts/pin-dev-versions.sh and
# scripts/check-release.sh share: the module list of versions.txt, reading a
# go.mod, the version rules and an isolated Go environment that resolves this
# repository's modules from a local git repository. It is sourced from the
# repository root, never run. docs/releasing.md describes the rules.

# die prints its arguments on stderr, prefixed with the script's name, and
# exits 1.
die() {
	printf '%s: %s\n' "${SCRIPT_NAME:-release}" "$*" >&2
	exit 1
}

# gomod_field prints one section of a go.mod file (the path given) from
# `go mod edit -json`, which Go formats one value a line: for "Require",
# "PATH VERSION" a line; for "Replace", "OLDPATH OLDVERSION" a line ("-" when
# the replace has no version); for "Exclude", "PATH VERSION"; for "Module", the
# module path.
gomod_field() {
	local file=$1 section=$2 json
	json=$(GOWORK=off go mod edit -json "$file") || die "cannot read $file"
	awk -F'"' -v want="$section" '
		/^\t"[A-Za-z]+":/ { sect = $2; side = ""; path = ""; next }
		sect != want { next }
		want == "Module" && /^\t\t"Path":/ { print $4 }
		(want == "Require" || want == "Exclude") && /^\t\t\t"Path":/ { path = $4 }
		(want == "Require" || want == "Exclude") && /^\t\t\t"Version":/ { print path, $4 }
		want == "Replace" && /^\t\t\t"(Old|New)":/ { side = $2 }
		want == "Replace" && side == "Old" && /^\t\t\t\t"Path":/ { path = $4; version = "-" }
		want == "Replace" && side == "Old" && /^\t\t\t\t"Version":/ { version = $4 }
		want == "Replace" && /^\t\t}/ { print path, version }
	' <<<"$json"
}

# load_modules reads versions.txt in the current directory (the repository
# root) and checks it against the go.mod files of the repository. It sets
# ROOT_PATH (the root module's path), MOD_DIRS (every module's directory, in
# the file's order), PUBLISHED_DIRS, MOD_KIND[dir], MOD_PATH[dir] and
# DIR_OF[module path].
load_modules() {
	[[ -f versions.txt ]] || die "no versions.txt at the repository root"
	ROOT_PATH=$(gomod_field go.mod Module)
	[[ -n $ROOT_PATH ]] || die "go.mod at the root names no module"
	MOD_DIRS=()
	PUBLISHED_DIRS=()
	declare -gA MOD_KIND=() MOD_PATH=() DIR_OF=()
	local line dir kind extra n=0 path
	while IFS= read -r line || [[ -n $line ]]; do
		n=$((n + 1))
		line=${line%%#*}
		read -r dir kind extra <<<"$line" || true
		[[ -z $dir ]] && continue
		[[ -n $kind && -z $extra ]] || die "versions.txt:$n: want 'DIRECTORY published|unpublished'"
		[[ $kind == published || $kind == unpublished ]] || die "versions.txt:$n: '$kind' is neither published nor unpublished"
		[[ $dir == . || $dir =~ ^[A-Za-z0-9_]([A-Za-z0-9_./-]*[A-Za-z0-9_])?$ && $dir != *..* && $dir != *//* && $dir != */./* ]] ||
			die "versions.txt:$n: '$dir' is not a clean relative directory"
		[[ -z ${MOD_KIND[$dir]:-} ]] || die "versions.txt:$n: $dir is listed twice"
		[[ -f $dir/go.mod ]] || die "versions.txt:$n: $dir/go.mod does not exist"
		if [[ $dir == . ]]; then path=$ROOT_PATH; else path=$ROOT_PATH/$dir; fi
		[[ $(gomod_field "$dir/go.mod" Module) == "$path" ]] ||
			die "$dir/go.mod declares module $(gomod_field "$dir/go.mod" Module), not $path (the path its directory gives)"
		MOD_DIRS+=("$dir")
		MOD_KIND[$dir]=$kind
		MOD_PATH[$dir]=$path
		DIR_OF[$path]=$dir
		[[ $kind == published ]] && PUBLISHED_DIRS+=("$dir")
	done <versions.txt
	[[ ${MOD_KIND[.]:-} == published ]] || die "versions.txt must list the root module (.) as published"
	# A module that versions.txt does not name would be left out of a release
	# and its requires out of the checks: refuse it.
	local f
	while IFS= read -r f; do
		case /$f in */testdata/* | */vendor/*) continue ;; esac
		dir=$(dirname "$f")
		[[ -n ${MOD_KIND[$dir]:-} ]] || die "$f is not listed in versions.txt: add it as published or unpublished (docs/releasing.md)"
	done < <(git ls-files --cached --others --exclude-standard -- '*go.mod' 'go.mod')
}

# own_requires prints "PATH VERSION" for each require of the module in dir $1
# on another module of this repository (read from the go.mod file $2, by
# default $1/go.mod). It fails on a require of a module that versions.txt does
# not list.
own_requires() {
	local dir=$1 file=${2:-$1/go.mod} reqs path version
	reqs=$(gomod_field "$file" Require) || exit 1
	while read -r path version; do
		[[ $path == "$ROOT_PATH" || $path == "$ROOT_PATH"/* ]] || continue
		[[ -n ${DIR_OF[$path]:-} ]] || die "$dir/go.mod requires $path, which is not a module of versions.txt"
		printf '%s %s\n' "$path" "$version"
	done <<<"$reqs"
}

# is_semver reports whether $1 is a semantic version as Go tags it:
# vMAJOR.MINOR.PATCH with an optional -PRERELEASE and no +BUILD (Go ignores
# tags with build metadata), numbers without leading zeros (semver.org §2, §9).
is_semver() {
	local v=$1 id
	[[ $v =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$ ]] || return 1
	local -a ids
	IFS=. read -ra ids <<<"${BASH_REMATCH[5]}"
	for id in "${ids[@]}"; do
		[[ $id =~ ^0[0-9]+$ ]] && return 1
	done
	return 0
}

# is_pseudo_version reports whether $1 has the shape of a Go pseudo-version
# (https://go.dev/ref/mod#pseudo-versions).
is_pseudo_version() {
	[[ $1 =~ ^v[0-9]+\.(0\.0-|[0-9]+\.[0-9]+-([^+]*\.)?0\.)[0-9]{14}-[0-9a-f]{12}$ ]]
}

# release_version_problem prints why $1 cannot be a release version, and
# nothing when it can.
release_version_problem() {
	local v=$1
	if ! is_semver "$v"; then
		echo "'$v' is not a semantic version vMAJOR.MINOR.PATCH[-PRERELEASE] (such as v0.1.0 or v0.2.0-rc.1)"
	elif is_pseudo_version "$v"; then
		echo "'$v' has the shape of a pseudo-version, which Go would not treat as a release"
	elif [[ ! $v =~ ^v[01]\. ]]; then
		echo "'$v': major versions from v2 on need module paths ending in /${v%%.*}; this script does not make them"
	fi
}

# tag_name prints the git tag of the module in dir $1 at version $2: the
# version itself for the root, DIR/VERSION for a nested module
# (https://go.dev/ref/mod#vcs-version).
tag_name() {
	if [[ $1 == . ]]; then echo "$2"; else echo "$1/$2"; fi
}

# latest_release prints the highest release version tagged for the module in
# dir $1 (semver order: a prerelease before its release), or nothing.
latest_release() {
	local prefix="" tag v
	[[ $1 == . ]] || prefix=$1/
	while IFS= read -r tag; do
		v=${tag#"$prefix"}
		if [[ -z $(release_version_problem "$v") ]]; then
			echo "$v"
			return
		fi
	done < <(git -c versionsort.suffix=- tag --list "${prefix}v*" --sort=-v:refname)
}

# commit_time prints the committer time of commit $1 in UTC as a
# pseudo-version has it (yyyymmddhhmmss).
commit_time() {
	TZ=UTC git show -s --format=%cd --date=format-local:%Y%m%d%H%M%S "$1"
}

# pseudo_version prints the pseudo-version v0.0.0-TIME-HASH of commit $1 (the
# form with no base tag, which Go accepts for any commit of a v0 module).
pseudo_version() {
	local full
	full=$(git rev-parse --verify "$1^{commit}") || die "no commit $1"
	echo "v0.0.0-$(commit_time "$full")-${full:0:12}"
}

# pin_problem prints why version $2 of the module in dir $1 does not exist for
# Go, and nothing when it does: a tag must exist; a pseudo-version must name a
# commit in HEAD's history, at its committer time, that holds the module. v0.0.0
# and the zero pseudo-version v0.0.0-00010101000000-000000000000 never exist.
pin_problem() {
	local dir=$1 v=$2 file=$1/go.mod commit rev
	[[ $dir == . ]] && file=go.mod
	if is_pseudo_version "$v"; then
		[[ $v =~ ^v0\.0\.0-([0-9]{14})-([0-9a-f]{12})$ ]] || {
			echo "$v is a pseudo-version with a base tag; require the tag itself (scripts/pin-dev-versions.sh)"
			return
		}
		rev=${BASH_REMATCH[2]}
		if ! commit=$(git rev-parse -q --verify "$rev^{commit}" 2>/dev/null) || [[ $commit != "$rev"* ]]; then
			echo "$v names commit $rev, which is not in this repository"
		elif ! git merge-base --is-ancestor "$commit" HEAD; then
			echo "$v names commit $rev, which is not in the history of HEAD"
		elif [[ $(commit_time "$commit") != "${BASH_REMATCH[1]}" ]]; then
			echo "$v does not carry the commit time of $rev ($(commit_time "$commit"))"
		elif ! git cat-file -e "$commit:$file" 2>/dev/null; then
			echo "$v: commit $rev has no $file"
		fi
	elif is_semver "$v"; then
		commit=$(git rev-parse -q --verify "refs/tags/$(tag_name "$dir" "$v")^{commit}" 2>/dev/null) || {
			echo "$v is not released: there is no tag $(tag_name "$dir" "$v")"
			return
		}
		git cat-file -e "$commit:$file" 2>/dev/null || echo "tag $(tag_name "$dir" "$v") has no $file"
	else
		echo "$v is not a version"
	fi
}

# sandbox_init prepares, under directory $1, a Go environment in which this
# repository's modules come from the git repository $2 (by git's insteadOf,
# as they would from GitHub) and every other module from the module cache of
# the caller's environment or, failing that, its GOPROXY. Its module cache is
# new, so nothing of this repository is cached from elsewhere; the caller's
# cache is only read. sgo runs go in it.
sandbox_init() {
	local dir=$1 repo=$2 realcache realproxy
	realcache=$(go env GOMODCACHE)
	realproxy=$(go env GOPROXY)
	mkdir -p "$dir/modcache" "$dir/bin"
	SANDBOX_DIR=$dir
	git config -f "$dir/gitconfig" url."file://$repo".insteadOf "https://$ROOT_PATH"
	SANDBOX_ENV=(
		GIT_CONFIG_GLOBAL="$dir/gitconfig" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
		GOPRIVATE="$ROOT_PATH" GONOPROXY="$ROOT_PATH" GONOSUMDB="$ROOT_PATH"
		GOMODCACHE="$dir/modcache" GOPROXY="file://$realcache/cache/download,${realproxy:-https://proxy.golang.org,direct}"
		GOFLAGS="-modcacherw -mod=readonly -trimpath" GOWORK=off GOBIN="$dir/bin"
	)
	# -trimpath keeps the build cache's keys free of the module cache's
	# directory, so that builds in a new sandbox reuse earlier compilations.
}

# sgo runs go in the environment of sandbox_init. It holds back go's
# "go: downloading" and "go: added" lines, which would bury everything else
# in the log.
sgo() {
	local status=0
	env "${SANDBOX_ENV[@]}" go "$@" 2>"$SANDBOX_DIR/stderr" || status=$?
	grep -Ev '^go: (downloading|added) ' "$SANDBOX_DIR/stderr" >&2 || true
	return "$status"
}

# sandbox_forget removes this repository's modules from the sandbox's module
# cache, so that the next go command fetches them again from the git
# repository (after its tags moved).
sandbox_forget() {
	local cache=${SANDBOX_DIR:?}/modcache
	rm -rf "$cache/cache/vcs" "$cache/cache/download/${ROOT_PATH:?}" "$cache/$ROOT_PATH" "$cache/$ROOT_PATH"@*
}
