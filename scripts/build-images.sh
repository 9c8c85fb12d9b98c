#!/usr/bin/env bash
# Builds inferd's container images offline, FROM scratch: no base image, no registry.
#
# Usage: scripts/build-images.sh [--build-dir DIR] [--tag TAG] [IMAGE...]
#   IMAGE: hello, echo (the services; the default is both), onnx, torch (the inference
#   services, with the iris test model in /models), llm, tgi, hf (clients of remote inference
#   servers) or test-httpd (the busybox image the container manager's Podman tests use).
#   --build-dir: the CMake build directory holding bin/<service>-service; by default the most
#   recently built build/*/bin/<service>-service.
#   --tag: the image tag (default: latest).
#
# A service image contains the stripped service binary in /usr/local/bin, every shared library
# `ldd` lists for it and the dynamic loader, each at its host path. Images are named
# localhost/inferd/<name>:<tag>. Uses podman, or docker when podman is missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=""
tag=latest
images=()
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) images+=("$1"); shift ;;
  esac
done
if ((${#images[@]} == 0)); then images=(hello echo); fi

cli=podman
if ! command -v podman >/dev/null 2>&1; then
  if command -v docker >/dev/null 2>&1; then cli=docker; else
    echo "build-images.sh: neither podman nor docker is installed (scripts/podman.sh installs podman)" >&2
    exit 1
  fi
fi
# The containers.conf scripts/podman.sh writes selects runc, which works on these machines.
if [ "$cli" = podman ] && [ -z "${CONTAINERS_CONF:-}" ] && [ -f "$root/data/podman/containers.conf" ]; then
  export CONTAINERS_CONF="$root/data/podman/containers.conf"
fi

# Copies `file` into `rootfs` at the same path, following symlinks.
copy_at_host_path() {
  local file=$1 rootfs=$2
  mkdir -p "$rootfs$(dirname "$file")"
  cp -L "$file" "$rootfs$file"
}

find_service_binary() {
  local name=$1
  if [ -n "$build_dir" ]; then
    if [ -x "$build_dir/bin/$name" ]; then echo "$build_dir/bin/$name"; return 0; fi
    return 1
  fi
  # The newest build of any preset.
  local found
  found=$(ls -t "$root"/build/*/bin/"$name" "$root"/build/*/services/*/"$name" 2>/dev/null | head -n 1 || true)
  if [ -n "$found" ]; then echo "$found"; return 0; fi
  return 1
}

build_service() {
  local service=$1
  local binary
  if ! binary=$(find_service_binary "$service-service"); then
    echo "build-images.sh: no $service-service binary found under ${build_dir:-$root/build/*}/bin;" \
      "build it first (cmake --build --preset release)" >&2
    return 1
  fi
  local stage
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' RETURN
  mkdir -p "$stage/rootfs/usr/local/bin"
  cp "$root/services/$service/Containerfile" "$stage/"
  cp -L "$binary" "$stage/rootfs/usr/local/bin/$service-service"
  strip --strip-unneeded "$stage/rootfs/usr/local/bin/$service-service" 2>/dev/null || true

  # The inference services look up model ids under /models (their Containerfiles set the cache
  # directory), where the committed iris model is available as "iris.onnx" or "iris.pt".
  case "$service" in
    onnx) mkdir -p "$stage/rootfs/models"; cp "$root/services/models/iris.onnx" "$stage/rootfs/models/" ;;
    torch) mkdir -p "$stage/rootfs/models"; cp "$root/services/models/iris.pt" "$stage/rootfs/models/" ;;
  esac

  # The clients of remote servers verify HTTPS peers, and a scratch image has no CA bundle:
  # copy the host's (Debian's ca-certificates), which their Containerfiles name in SSL_CERT_FILE.
  case "$service" in
    llm|tgi|hf) copy_at_host_path /etc/ssl/certs/ca-certificates.crt "$stage/rootfs" ;;
  esac

  # ldd prints "libx.so => /path (addr)" for libraries and "/lib64/ld-linux… (addr)" for the
  # loader; a static binary prints "not a dynamic executable" and needs nothing more.
  local libraries
  libraries=$(ldd "$binary" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' || true)
  local library
  for library in $libraries; do
    copy_at_host_path "$library" "$stage/rootfs"
  done

  echo "build-images.sh: building localhost/inferd/$service:$tag from $binary" >&2
  "$cli" build --quiet -t "localhost/inferd/$service:$tag" -f "$stage/Containerfile" "$stage" >/dev/null
  report_size "localhost/inferd/$service:$tag"
}

build_test_httpd() {
  local busybox=/bin/busybox
  # ldd fails on a static binary ("not a dynamic executable").
  if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
    echo "build-images.sh: $busybox is missing or not static; install Debian's busybox-static" >&2
    return 1
  fi
  local stage
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' RETURN
  mkdir -p "$stage/rootfs/bin" "$stage/rootfs/www"
  cp "$root/tests/containers/httpd-image/Containerfile" "$stage/"
  cp "$root/tests/containers/httpd-image/index.html" "$stage/rootfs/www/"
  cp "$busybox" "$stage/rootfs/bin/busybox"
  echo "build-images.sh: building localhost/inferd/test-httpd:$tag" >&2
  "$cli" build --quiet -t localhost/inferd/test-httpd:$tag -f "$stage/Containerfile" "$stage" >/dev/null
  report_size localhost/inferd/test-httpd:$tag
}

report_size() {
  local bytes
  bytes=$("$cli" image inspect --format '{{.Size}}' "$1")
  echo "build-images.sh: $1 is $((bytes / 1024)) KiB"
}

status=0
for image in "${images[@]}"; do
  case "$image" in
    hello|echo|onnx|torch|llm|tgi|hf) build_service "$image" || status=1 ;;
    test-httpd) build_test_httpd || status=1 ;;
    *) echo "build-images.sh: unknown image $image (expected hello, echo, onnx, torch, llm, tgi, hf or test-httpd)" >&2; status=1 ;;
  esac
done
exit $status
