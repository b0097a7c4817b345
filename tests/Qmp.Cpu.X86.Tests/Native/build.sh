#!/bin/sh
# Builds the freestanding 32-bit native harness: build.sh <output-binary> [source].
# No 32-bit libc is needed (or available), hence -ffreestanding -nostdlib.
set -eu
out="$1"
src="${2:-$(dirname "$0")/harness.c}"
${CC:-gcc} -m32 -march=i686 -ffreestanding -nostdlib -static -fno-pic -no-pie -O1 \
    -fno-stack-protector -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
    -Wall -Wextra -Wl,--build-id=none -o "$out" "$src"
