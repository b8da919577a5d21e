#!/usr/bin/env bash
# Build the container images of pytest-chaos without any image registry: a Debian bookworm base
# made with debootstrap, then the sample-services, proxy and RabbitMQ images on top of it.
# Cached: an image whose sources did not change is not rebuilt. Run `build-images.sh --help`.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/build-images.sh [--force] [--help]

Builds, from a local Debian bookworm base and with no image registry:

  chaos-base:bookworm    debootstrap --variant=minbase of bookworm, imported with `docker import`,
                         with the host's apt sources (built once; never rebuilt by this script:
                         `docker rmi chaos-base:bookworm` and re-run to rebuild it)
  chaos-sample:local     Debian's python3 + a venv (/opt/venv, on PATH) with pytest-chaos and its
                         dependencies; run a service with `python -m sample_system.<service>`
  chaos-proxy:local      the same venv, ENTRYPOINT chaos-proxy, CMD -host=0.0.0.0, API on 8474
                         (a drop-in for ghcr.io/shopify/toxiproxy)
  chaos-rabbitmq:local   Debian's rabbitmq-server 3.10 (a stand-in for rabbitmq:3), AMQP on 5672

The Python wheels (the project and its runtime dependencies) are built on the host with
`pip wheel` and copied into the build; nothing is installed from the network inside
`docker build`. Each image carries the label io.chaos.source-hash, a sha256 of the sources it
was built from (its Dockerfile, pyproject.toml, chaos/ and sample_system/, the base image);
an image whose label matches is reported "cached" and not rebuilt.

Options:
  --force     rebuild every image except the base, without Docker's layer cache either
  -h, --help  show this help

Environment:
  CHAOS_BASE_IMAGE      base image tag      (default chaos-base:bookworm)
  CHAOS_SAMPLE_IMAGE    sample image tag    (default chaos-sample:local)
  CHAOS_PROXY_IMAGE     proxy image tag     (default chaos-proxy:local)
  CHAOS_RABBITMQ_IMAGE  RabbitMQ image tag  (default chaos-rabbitmq:local)
  CHAOS_PYTHON          Python 3.11 that builds the wheels (default: the repo's .venv/bin/python
                        if it exists, else python3)

Needs: docker (with a running dockerd), and for the base image root and debootstrap (installed
with apt-get when missing). Temporary files go to a directory under /var/tmp, removed on exit.
EOF
}

FORCE=0
NO_CACHE=0 # --force: docker build --no-cache (but the second Python target reuses the first's layers)
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 NO_CACHE=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            printf 'build-images: unknown argument: %s\n\n' "$arg" >&2
            usage >&2
            exit 2
            ;;
    esac
done

SCRIPT_PATH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/$(basename -- "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd -- "$(dirname -- "$SCRIPT_PATH")/.." && pwd -P)
DOCKER_DIR=$REPO_ROOT/docker

BASE_IMAGE=${CHAOS_BASE_IMAGE:-chaos-base:bookworm}
SAMPLE_IMAGE=${CHAOS_SAMPLE_IMAGE:-chaos-sample:local}
PROXY_IMAGE=${CHAOS_PROXY_IMAGE:-chaos-proxy:local}
RABBITMQ_IMAGE=${CHAOS_RABBITMQ_IMAGE:-chaos-rabbitmq:local}

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
IMAGE_PYTHON_VERSION=3.11 # bookworm's python3: the wheels must be built by a 3.11 too
HASH_LABEL=io.chaos.source-hash

# The classic builder: no buildx plugin needed, and FROM a local-only image just works.
export DOCKER_BUILDKIT=0

log() { printf 'build-images: %s\n' "$*" >&2; }
die() {
    printf 'build-images: error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Temporary directory (debootstrap target, wheels, build context), removed on exit.

WORK=""
TMP_TAGS=()        # images built but not yet checked (tagged under a temporary name)
SMOKE_CONTAINER="" # the container of a running check
cleanup() {
    if [ -n "$SMOKE_CONTAINER" ]; then
        docker rm -f -v "$SMOKE_CONTAINER" >/dev/null 2>&1 || true
    fi
    local tag
    for tag in "${TMP_TAGS[@]}"; do
        docker image rm "$tag" >/dev/null 2>&1 || true
    done
    [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
    # debootstrap mounts /proc and /sys inside its target while it runs: never rm -rf across a
    # mount that an interrupted run may have left behind.
    local mnt
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
    if awk -v w="$WORK/" 'index($2, w) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
        log "left $WORK behind: something is still mounted under it"
    else
        rm -rf --one-file-system "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One build at a time (two runs would race on the same tags).
exec 9<"$SCRIPT_PATH"
if ! flock -n 9; then
    log "another build-images.sh is running; waiting for it"
    flock 9
fi

WORK=$(mktemp -d /var/tmp/chaos-images.XXXXXX)

# Run a command with its output in a log file; on failure, show the end of the log and stop.
run_logged() {
    local what=$1 logfile=$2
    shift 2
    if ! "$@" >"$logfile" 2>&1; then
        tail -n 60 "$logfile" >&2 || true
        die "$what failed (the end of its output is above)"
    fi
}

# ---------------------------------------------------------------------------------------------
# Host tools

command -v docker >/dev/null 2>&1 ||
    die "the docker command is missing: install docker.io (apt-get install docker.io) and start dockerd"
if ! docker_error=$(docker info --format '{{.ServerVersion}}' 2>&1 >/dev/null); then
    die "the Docker engine does not answer (docker info: ${docker_error//$'\n'/ }):" \
        "start dockerd (systemctl start docker, or dockerd &) and check that you may use its socket"
fi

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
image_hash() { docker image inspect --format "{{index .Config.Labels \"$HASH_LABEL\"}}" "$1" 2>/dev/null || true; }

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || die "debootstrap is missing and installing it needs root"
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and there is no apt-get to install it"
    log "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends debootstrap >"$WORK/apt.log" 2>&1; then
        run_logged "apt-get update" "$WORK/apt.log" apt-get update -q
        run_logged "apt-get install debootstrap" "$WORK/apt.log" \
            apt-get install -y -q --no-install-recommends debootstrap
    fi
}

# ---------------------------------------------------------------------------------------------
# Base image: debootstrap + the host's apt configuration, imported as an image.

configure_rootfs() {
    local root=$1 f copied=0
    # apt inside builds reaches the same mirrors as the host (deb822 .sources and/or .list).
    local sources=()
    [ -f /etc/apt/sources.list ] && sources+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && sources+=("$f")
    done
    if [ "${#sources[@]}" -gt 0 ]; then
        rm -f "$root/etc/apt/sources.list" # debootstrap's own, or apt warns about duplicates
        for f in "${sources[@]}"; do
            install -D -m 0644 "$f" "$root$f"
            copied=$((copied + 1))
        done
        # keyrings the sources name (Signed-By / signed-by=) that the rootfs lacks
        while read -r f; do
            [ -f "$f" ] && [ ! -e "$root$f" ] && install -D -m 0644 "$f" "$root$f"
        done < <(grep -ohE '/[^][ ,]+\.(gpg|asc)' "${sources[@]}" | sort -u || true)
    fi
    if [ -f /etc/apt/apt.conf.d/99artifact-registry ]; then
        install -m 0644 /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/"
    fi
    log "copied $copied apt source file(s) from the host"

    # Slimmer images: no man pages, docs (but copyright), info or translations from packages.
    cat >"$root/etc/dpkg/dpkg.cfg.d/01-chaos-nodoc" <<'EOF'
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    # Nothing of the host or of debootstrap's run (Docker provides resolv.conf and hostname).
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    : >"$root/etc/resolv.conf"
    printf 'localhost\n' >"$root/etc/hostname"
}

build_base() {
    if image_exists "$BASE_IMAGE"; then
        echo "$BASE_IMAGE: cached"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "building $BASE_IMAGE needs root (debootstrap)"
    ensure_debootstrap
    local start=$SECONDS root=$WORK/rootfs
    log "debootstrap --variant=minbase $SUITE from $MIRROR (a few minutes)"
    if ! debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
        tail -n 30 "$WORK/debootstrap.log" >&2 || true
        tail -n 30 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
        die "debootstrap failed (the end of its log is above)"
    fi
    configure_rootfs "$root"
    log "importing the rootfs as $BASE_IMAGE"
    tar --numeric-owner -C "$root" -c . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' \
            --change 'CMD ["/bin/bash"]' \
            --message "debootstrap --variant=minbase $SUITE $MIRROR" \
            - "$BASE_IMAGE" >/dev/null
    rm -rf --one-file-system "$root"
    echo "$BASE_IMAGE: built in $((SECONDS - start))s"
}

# ---------------------------------------------------------------------------------------------
# Source hashes

# The files of chaos/ and sample_system/, repo-relative, NUL-separated: the tracked ones and
# the untracked ones git does not ignore (what goes into the wheel), or all of them without git.
list_python_sources() {
    local f
    {
        if command -v git >/dev/null 2>&1 &&
            git -C "$REPO_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
            git -C "$REPO_ROOT" ls-files -z --cached --others --exclude-standard -- chaos sample_system
        else
            (cd "$REPO_ROOT" && find chaos sample_system -type f \
                ! -path '*/__pycache__/*' ! -name '*.py[co]' -print0)
        fi
    } | LC_ALL=C sort -zu | while IFS= read -r -d '' f; do
        [ -f "$REPO_ROOT/$f" ] && printf '%s\0' "$f" # deleted but still in the index
    done
}

# sha256 over a salt line and the named repo-relative files (names and contents).
source_hash() {
    local salt=$1
    shift
    {
        printf '%s\n' "$salt"
        (cd "$REPO_ROOT" && sha256sum -- "$@")
    } | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------------------------------------
# Images

# docker build with the hash label (and without Docker's layer cache under --force), under a
# temporary tag; the tag is moved to the new image only once `check` accepted it, so a broken
# build never replaces a working image that other code runs.
docker_build() {
    local tag=$1 hash=$2 name=$3 check=$4
    shift 4
    local tmp="chaos-build-tmp:$$-$name"
    local args=(--tag "$tmp" --label "$HASH_LABEL=$hash" --build-arg "BASE_IMAGE=$BASE_IMAGE" --force-rm)
    [ "$NO_CACHE" = 1 ] && args+=(--no-cache)
    TMP_TAGS+=("$tmp")
    run_logged "docker build of $tag" "$WORK/$name.log" docker build "${args[@]}" "$@"
    "$check" "$tmp" || die "$tag: the new image fails its check (above); $tag was left as it was"
    docker tag "$tmp" "$tag"
    docker image rm "$tmp" >/dev/null # only the temporary tag goes
    unset 'TMP_TAGS[-1]'
}

# Checks of a freshly built image (no network needed).
check_sample() {
    docker run --rm --network none "$1" python -c '
import importlib, pkgutil
import chaos, chaos.proxy.cli, pika, uvloop, sample_system
for m in pkgutil.iter_modules(sample_system.__path__):
    importlib.import_module("sample_system." + m.name)
' || {
        log "check: importing chaos and sample_system in the image failed"
        return 1
    }
}

check_proxy() {
    docker run --rm --network none "$1" -version >/dev/null || {
        log "check: chaos-proxy -version in the image failed"
        return 1
    }
}

# Boots the broker, waits for it, lists queues through docker exec, stops it cleanly.
check_rabbitmq() {
    SMOKE_CONTAINER=$(docker run -d --network none --hostname chaos-check "$1")
    local ok=0 _
    for _ in $(seq 1 120); do # up to a minute
        if ! [ "$(docker inspect --format '{{.State.Running}}' "$SMOKE_CONTAINER")" = true ]; then
            break
        fi
        if docker exec "$SMOKE_CONTAINER" rabbitmq-diagnostics -q check_running >/dev/null 2>&1; then
            ok=1
            break
        fi
        sleep 0.5
    done
    if [ "$ok" = 1 ] && docker exec "$SMOKE_CONTAINER" rabbitmqctl -q list_queues >/dev/null 2>&1 &&
        docker stop "$SMOKE_CONTAINER" >/dev/null &&
        [ "$(docker inspect --format '{{.State.ExitCode}}' "$SMOKE_CONTAINER")" = 0 ]; then
        docker rm -v "$SMOKE_CONTAINER" >/dev/null
        SMOKE_CONTAINER=""
        return 0
    fi
    # The cause is in the first errors (a crash report follows), the outcome at the end.
    {
        docker logs "$SMOKE_CONTAINER" 2>&1 | grep -m 15 -E '\[error\]|BOOT FAILED' || true
        echo '...'
        docker logs --tail 8 "$SMOKE_CONTAINER" 2>&1 || true
    } >&2
    log "check: the broker did not boot, answer rabbitmqctl, and stop cleanly (its log is above)"
    docker rm -f -v "$SMOKE_CONTAINER" >/dev/null 2>&1 || true
    SMOKE_CONTAINER=""
    return 1
}

# Untagged images this script made, once no container uses them: earlier versions of its
# images (they carry the hash label) and what the classic builder leaves behind (the `build`
# stage, an interrupted build...: every stage of the Dockerfiles carries an io.chaos.stage label).
remove_stale_images() {
    local stale=()
    mapfile -t stale < <({
        docker image ls --quiet --no-trunc --filter dangling=true --filter "label=$HASH_LABEL"
        docker image ls --quiet --no-trunc --filter dangling=true --filter label=io.chaos.stage
    } | sort -u)
    local id
    for id in "${stale[@]}"; do
        docker image rm "$id" >/dev/null 2>&1 || true
    done
}

wheel_python() {
    local py
    if [ -n "${CHAOS_PYTHON:-}" ]; then
        py=$CHAOS_PYTHON
    elif [ -x "$REPO_ROOT/.venv/bin/python" ]; then
        py=$REPO_ROOT/.venv/bin/python
    else
        py=python3
    fi
    command -v "$py" >/dev/null 2>&1 || die "no Python to build the wheels with: $py (set CHAOS_PYTHON)"
    local version
    version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ||
        die "$py does not run (set CHAOS_PYTHON)"
    [ "$version" = "$IMAGE_PYTHON_VERSION" ] ||
        die "$py is Python $version, but the images run Debian bookworm's $IMAGE_PYTHON_VERSION:" \
            "the wheels must match it; set CHAOS_PYTHON to a Python $IMAGE_PYTHON_VERSION"
    "$py" -m pip --version >/dev/null 2>&1 || die "$py has no pip (set CHAOS_PYTHON)"
    printf '%s\n' "$py"
}

build_python_images() {
    local sources=() base_id hash
    mapfile -d '' sources < <(list_python_sources)
    [ "${#sources[@]}" -gt 0 ] || die "no sources found under $REPO_ROOT/chaos and sample_system"
    base_id=$(image_id "$BASE_IMAGE")
    hash=$(source_hash "python-images v1 base=$base_id" \
        docker/Dockerfile pyproject.toml "${sources[@]}")

    local need_sample=1 need_proxy=1
    if [ "$FORCE" = 0 ]; then
        [ "$(image_hash "$SAMPLE_IMAGE")" = "$hash" ] && need_sample=0
        [ "$(image_hash "$PROXY_IMAGE")" = "$hash" ] && need_proxy=0
    fi
    [ "$need_sample" = 0 ] && echo "$SAMPLE_IMAGE: cached"
    [ "$need_proxy" = 0 ] && echo "$PROXY_IMAGE: cached"
    [ "$need_sample" = 1 ] || [ "$need_proxy" = 1 ] || return 0

    # Wheels of the project and all its runtime dependencies, built on the host (with its pip
    # configuration and certificates) from a clean copy of the hashed sources.
    local py start=$SECONDS src=$WORK/src ctx=$WORK/context f
    py=$(wheel_python)
    mkdir -p "$src" "$ctx/wheels"
    local files=(pyproject.toml "${sources[@]}")
    for f in README.md LICENSE LICENSE.txt MANIFEST.in setup.cfg setup.py; do
        [ -f "$REPO_ROOT/$f" ] && files+=("$f")
    done
    (cd "$REPO_ROOT" && printf '%s\0' "${files[@]}" | tar --null -T - -cf -) | tar -C "$src" -xf -
    log "building wheels with $py"
    run_logged "pip wheel" "$WORK/wheels.log" \
        "$py" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$ctx/wheels" "$src[sample]"
    local wheels_s=$((SECONDS - start))
    log "$(find "$ctx/wheels" -name '*.whl' | wc -l) wheels in ${wheels_s}s"
    cp "$DOCKER_DIR/Dockerfile" "$ctx/Dockerfile"
    # The sample system is not in the wheel (only chaos is): the sample image gets its source.
    cp -r "$src/sample_system" "$ctx/sample_system"

    # The wheels' time is counted in the first image built.
    local t note=" (+ wheels ${wheels_s}s)"
    if [ "$need_sample" = 1 ]; then
        t=$SECONDS
        docker_build "$SAMPLE_IMAGE" "$hash" sample check_sample --target sample "$ctx"
        echo "$SAMPLE_IMAGE: built in $((SECONDS - t))s$note"
        note=""
    fi
    if [ "$need_proxy" = 1 ]; then
        t=$SECONDS
        local no_cache=$NO_CACHE
        [ "$need_sample" = 1 ] && NO_CACHE=0 # the layers built just now are fresh
        docker_build "$PROXY_IMAGE" "$hash" proxy check_proxy --target proxy "$ctx"
        NO_CACHE=$no_cache
        echo "$PROXY_IMAGE: built in $((SECONDS - t))s$note"
    fi
}

build_rabbitmq_image() {
    local base_id hash
    base_id=$(image_id "$BASE_IMAGE")
    hash=$(source_hash "rabbitmq-image v1 base=$base_id" docker/rabbitmq.Dockerfile)
    if [ "$FORCE" = 0 ] && [ "$(image_hash "$RABBITMQ_IMAGE")" = "$hash" ]; then
        echo "$RABBITMQ_IMAGE: cached"
        return 0
    fi
    local t=$SECONDS
    # No build context: the Dockerfile comes on stdin and copies nothing.
    docker_build "$RABBITMQ_IMAGE" "$hash" rabbitmq check_rabbitmq - <"$DOCKER_DIR/rabbitmq.Dockerfile"
    echo "$RABBITMQ_IMAGE: built in $((SECONDS - t))s"
}

build_base
build_python_images
build_rabbitmq_image
remove_stale_images
