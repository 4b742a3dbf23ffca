#!/bin/sh
# image.sh — build the raqib:latest image (`make image` runs this).
#
# With `docker` when a Docker engine answers; otherwise with podman, as on a
# Debian machine with no Docker engine and no registry but Debian's: the
# debian:bookworm-slim base is made locally with debootstrap from the mirror
# apt uses, kept as a tarball under ./var/image/ (made once), and imported
# under the name the Dockerfile asks for. podman reads docker/podman/*.conf
# (vfs storage, runc with cgroupfs, fixed ulimits), which work in containers
# and sandboxes where podman's defaults do not. Says which route it took.
set -eu

cd "$(dirname "$0")/.."
TAG=${IMAGE_TAG:-raqib:latest}
BASE=docker.io/library/debian:bookworm-slim
CACHE=var/image

if [ -z "${IMAGE_ENGINE:-}" ]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
        IMAGE_ENGINE=docker
    else
        IMAGE_ENGINE=podman
    fi
fi

# A digest of everything the Dockerfile copies, kept as a label: an image
# built from the same files is not built again (a cached podman build on vfs
# storage still costs a minute or two of copying).
CONTEXT=$(find Makefile include src rules docker/Dockerfile docker/raqibd.image.conf -type f | LC_ALL=C sort |
          xargs sha256sum | sha256sum | cut -c1-32)
LABEL=org.raqib.context

up_to_date() {
    [ "${IMAGE_REBUILD:-}" != 1 ] &&
        [ "$("$1" image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$TAG" 2>/dev/null)" = "$CONTEXT" ]
}

if [ "$IMAGE_ENGINE" = docker ]; then
    if up_to_date docker; then echo "make image: $TAG is up to date (docker; IMAGE_REBUILD=1 rebuilds)"; exit 0; fi
    echo "make image: building $TAG with docker (a Docker engine answers)"
    exec docker build --label "$LABEL=$CONTEXT" -f docker/Dockerfile -t "$TAG" .
fi

export CONTAINERS_CONF="$PWD/docker/podman/containers.conf"
export CONTAINERS_STORAGE_CONF="$PWD/docker/podman/storage.conf"
if up_to_date podman; then echo "make image: $TAG is up to date (podman; IMAGE_REBUILD=1 rebuilds)"; exit 0; fi

# The first URI apt uses for the main Debian archive (deb822 or one-line form).
debian_mirror() {
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        m=$(sed -n -e 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
                   -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\)[[:space:]].*/\2/p' "$f" |
            grep -v security | head -n 1)
        if [ -n "$m" ]; then echo "$m"; return; fi
    done
    echo http://deb.debian.org/debian
}

# The base image: imported once from a debootstrap tarball made once.
if ! podman image exists "$BASE"; then
    if [ ! -s "$CACHE/bookworm-minbase.tar" ]; then
        mirror=$(debian_mirror)
        echo "make image: debootstrap bookworm (minbase) from $mirror into $CACHE/ (once, about a minute)"
        rm -rf "$CACHE/rootfs"
        mkdir -p "$CACHE"
        debootstrap --variant=minbase bookworm "$CACHE/rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
            { tail -20 "$CACHE/debootstrap.log"; exit 1; }
        rm -rf "$CACHE/rootfs/var/cache/apt/archives"/*.deb "$CACHE/rootfs/var/lib/apt/lists"/*
        tar -C "$CACHE/rootfs" -cf "$CACHE/bookworm-minbase.tar.part" .
        mv "$CACHE/bookworm-minbase.tar.part" "$CACHE/bookworm-minbase.tar"
        rm -rf "$CACHE/rootfs"
    fi
    echo "make image: importing $CACHE/bookworm-minbase.tar as $BASE"
    podman import --quiet "$CACHE/bookworm-minbase.tar" localhost/debian:bookworm-slim >/dev/null
    podman tag localhost/debian:bookworm-slim "$BASE"
fi

echo "make image: building $TAG with podman (no Docker engine answers; base $BASE from debootstrap)"
# --format docker keeps the HEALTHCHECK (the OCI format has none).
exec podman build --format docker --pull=never --network host --isolation chroot \
    --label "$LABEL=$CONTEXT" -f docker/Dockerfile -t "$TAG" .
