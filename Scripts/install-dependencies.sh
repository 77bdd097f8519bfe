#!/usr/bin/env bash
# Installs the Debian packages the library links against, if any is missing:
# OpenBLAS (CBLAS + LAPACK), GSL, Expat (XML), zlib, libpng, libzip, and pkg-config to find them.
# With --mpi, also Open MPI (libopenmpi-dev and its launcher openmpi-bin) for the package trait
# MPI (`swift build --traits MPI`); an MPI already installed (MPICH, say) is kept.
set -euo pipefail
packages=(libopenblas-dev libgsl-dev libexpat1-dev zlib1g-dev libpng-dev libzip-dev pkg-config)
if [ "${1:-}" = "--mpi" ] && ! { pkg-config --exists mpi 2>/dev/null && command -v mpirun >/dev/null; }; then
    packages+=(libopenmpi-dev openmpi-bin)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
