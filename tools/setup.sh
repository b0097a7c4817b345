#!/usr/bin/env bash
# Installs what the tests and benchmarks use besides the .NET SDK: socat (the README session),
# QEMU (qemu-system-x86_64 and -i386, the reference qmpd is compared with byte for byte) and gcc
# with binutils, which build the guest programs (tools/guests, gcc -m32 -ffreestanding).
# As root it installs them with apt-get; otherwise it says what is missing and fails.
set -euo pipefail

missing=()
command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required: https://dot.net" >&2; exit 1; }
command -v socat >/dev/null || missing+=(socat)
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v gcc >/dev/null || missing+=(gcc)
command -v ld >/dev/null || missing+=(binutils)

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
