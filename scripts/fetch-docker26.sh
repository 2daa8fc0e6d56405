#!/usr/bin/env bash
# Fetches Debian trixie's docker.io (dockerd 26.1), containerd (1.7) and docker-buildx (0.13) packages — signatures checked
# by apt against the Debian archive keyring — and unpacks their binaries into one folder, without
# installing anything. The end-to-end tests of the containerd image store (the reference layout notes §6) run
# this dockerd with the `containerd-snapshotter` feature; bookworm's dockerd 20.10 predates it. buildx
# (a docker CLI plugin, put in the tests' private DOCKER_CONFIG) makes real BuildKit databases.
# Usage: scripts/fetch-docker26.sh [DEST]   (default /opt/layerlens-test/docker26; needs root)
set -euo pipefail
dest="${1:-/opt/layerlens-test/docker26}"
if [ -x "$dest/bin/dockerd" ] && [ -x "$dest/bin/containerd" ] && [ -x "$dest/cli-plugins/docker-buildx" ]; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl" "$work/x"
# The Debian mirror this machine's apt already uses (never a host written here): the URI of the
# first source that serves a release suite (not -security), from deb822 .sources files or sources.list.
mirror_uri() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'BEGIN{RS=""; FS="\n"} {uri=""; ok=0; for(i=1;i<=NF;i++){ if($i ~ /^URIs:/){split(substr($i,6),u," "); uri=u[1]} if($i ~ /^Suites:/){n=split(substr($i,8),s," "); for(j=1;j<=n;j++) if(s[j] !~ /-security$/) ok=1} if($i ~ /^Types:/ && $i !~ /deb( |$)/) ok=-9 } if(uri!="" && ok>0){print uri; exit}}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1=="deb" { i=2; if ($2 ~ /^\[/) { while (i<=NF && $i !~ /\]$/) i++; i++ } if ($(i+1) !~ /-security$/) { print $i; exit } }' "$f"
	done
}
uri="$(mirror_uri | head -n 1)"
if [ -z "$uri" ]; then
	echo "fetch-docker26: no Debian source found in this machine's apt configuration" >&2
	exit 1
fi
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" >"$work/sources.list"
opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
	-o "Dir::State::lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Architecture=amd64
	-o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
(cd "$work/dl" && apt-get "${opts[@]}" download docker.io containerd docker-buildx >/dev/null)
for deb in "$work"/dl/*.deb; do dpkg-deb -x "$deb" "$work/x"; done
mkdir -p "$dest/bin"
for f in usr/sbin/dockerd usr/sbin/docker-proxy usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/bin/ctr; do
	install -m 0755 "$work/x/$f" "$dest/bin/"
done
mkdir -p "$dest/cli-plugins"
install -m 0755 "$work/x/usr/libexec/docker/cli-plugins/docker-buildx" "$dest/cli-plugins/"
"$dest/bin/dockerd" --version
