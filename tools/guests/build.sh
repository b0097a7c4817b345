#!/usr/bin/env bash
# Builds every guest kernel into OUTDIR as OUTDIR/<guest>.elf.
#
#   tools/guests/build.sh OUTDIR [GUEST...]
#
# A guest is a directory next to this script holding *.c and/or *.S files;
# each is linked with runtime/ into a 32-bit Multiboot ELF at 1 MiB.
# Rebuilds from scratch every time (it takes a second), so running it again
# is always safe. Needs gcc able to compile -m32 and GNU binutils; no 32-bit
# libc or libgcc.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -lt 1 ]]; then
  echo "usage: $0 OUTDIR [GUEST...]" >&2
  exit 2
fi
out=$1
shift

CC=${CC:-gcc}
LD=${LD:-ld}
CFLAGS=(-m32 -march=i686 -ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector -O2
        -std=gnu11 -Wall -Wextra -Werror -mgeneral-regs-only -fcf-protection=none
        -fno-asynchronous-unwind-tables -fno-exceptions --param=min-pagesize=0 -I"$here/runtime")
ASFLAGS=(-m32 -march=i686 -fno-pic -fno-pie -I"$here/runtime")
LDFLAGS=(-m elf_i386 -nostdlib -static -T "$here/runtime/linker.ld" -z max-page-size=0x1000
         --no-warn-rwx-segments --build-id=none)

die() { echo "build.sh: $*" >&2; exit 1; }

# Fail early, and clearly, if the toolchain cannot produce 32-bit objects.
command -v "$CC" >/dev/null || die "no C compiler '$CC' (install gcc)"
command -v "$LD" >/dev/null || die "no linker '$LD' (install binutils)"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\nuint32_t f(uint32_t x) { return x * 3u; }\n' > "$probe/p.c"
if ! "$CC" "${CFLAGS[@]}" -c "$probe/p.c" -o "$probe/p.o" 2> "$probe/err"; then
  cat "$probe/err" >&2
  die "'$CC -m32' cannot compile freestanding 32-bit code; install a gcc with i386 support"
fi
if ! "$LD" -m elf_i386 -r "$probe/p.o" -o "$probe/q.o" 2> "$probe/err"; then
  cat "$probe/err" >&2
  die "'$LD -m elf_i386' does not work; install GNU binutils with i386 support"
fi

if [[ $# -gt 0 ]]; then
  guests=("$@")
else
  guests=()
  for d in "$here"/*/; do
    name=$(basename "$d")
    [[ $name == runtime || $name == expected ]] && continue
    compgen -G "$d*.c" >/dev/null || compgen -G "$d*.S" >/dev/null || continue
    guests+=("$name")
  done
fi

mkdir -p "$out/obj/runtime"
compile() { # SRC OBJ
  case $1 in
    *.c) "$CC" "${CFLAGS[@]}" -c "$1" -o "$2" ;;
    *.S) "$CC" "${ASFLAGS[@]}" -c "$1" -o "$2" ;;
  esac || die "compiling $1 failed"
}

rt_objs=()
for src in "$here"/runtime/*.c "$here"/runtime/*.S; do
  obj="$out/obj/runtime/$(basename "$src").o"
  compile "$src" "$obj"
  rt_objs+=("$obj")
done

for g in "${guests[@]}"; do
  [[ -d $here/$g ]] || die "no guest '$g' in $here"
  mkdir -p "$out/obj/$g"
  objs=()
  for src in "$here/$g"/*.c "$here/$g"/*.S; do
    [[ -e $src ]] || continue
    obj="$out/obj/$g/$(basename "$src").o"
    compile "$src" "$obj"
    objs+=("$obj")
  done
  "$LD" "${LDFLAGS[@]}" -o "$out/$g.elf.tmp" "${rt_objs[@]}" "${objs[@]}" || die "linking $g failed"
  mv -f "$out/$g.elf.tmp" "$out/$g.elf"
  echo "built $out/$g.elf"
done
