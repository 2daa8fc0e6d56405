#!/usr/bin/env bash
# Fetches Debian trixie's docker.io (dockerd 26.1), containerd (1.7) and docker-buildx (0.13) packages — signatures checked
# by apt against the Debian archive keyring — and unpacks their binaries into one folder, without
# installing anything. The end-to-end tests of the containerd image store (docker-layout.md §6) run
# this dockerd with the `containerd-snapshotter` feature; bookworm's dockerd 20.10 predates it. buildx
# (a docker CLI plugin, put in the tests' private DOCKER_CONFIG) makes real BuildKit databases.
# Usage: scripts/fetch-docker26.sh [DEST]   (default /opt/layerlens-test/docker26; needs root)
set -euo pipefail
dest="${1:-/opt/layerlens-test/docker26}"
if [ -x "$dest/bin/dockerd" ] && [ -x "$dest/bin/containerd" ] && [ -x "$dest/cli-plugins/docker-buildx" ]; then exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl" "$work/x"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$work/sources.list"
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
