# Sourced by the Linux guest build scripts: ensure_packages PKG... installs
# the Debian packages that are missing (only those), or, when not root,
# stops naming them.  Needs the caller's log and die functions.
ensure_packages() {
	local p missing=""

	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	[ "$(id -u)" = 0 ] || die "need these Debian packages (run as root to install):$missing"
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
}
