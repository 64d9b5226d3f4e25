#!/bin/sh
# vmstream extract, core and diff on the real vectors (no QEMU needed; the
# comparison with QEMU's own dump is tests/integration/core-qemu.sh).
. "$TESTLIB"
need zstd
: "${ELFCMP:=${TOP_BUILDDIR:-.}/tests/integration/elfcmp}"
V=$VECTORS/real-v22

# --- extract: file, pipe and compressed inputs give the same bytes
X=$V/run-aa64-virt72-cortex-a57-2cpu-xbzrle.mig.zst
check "extract the xbzrle stream" "$VMSTREAM" extract "$X" "$TMP/x1"
check "extract it from a pipe" sh -c "zstd -dc '$X' | '$VMSTREAM' extract - '$TMP/x2'"
check "same RAM from file and pipe" cmp -s "$TMP/x1/mach-virt.ram.bin" "$TMP/x2/mach-virt.ram.bin"
check "manifest counts the xbzrle records (info: 3748)" \
    grep -q '"xbzrle": 3748' "$TMP/x1/manifest.json"
check "a block name with / is one file" [ -f "$TMP/x1/0000:00:01.0%2Fvirtio-net-pci.rom.bin" ]
check "files have the block size" [ "$(stat -c %s "$TMP/x1/virt.flash0.bin")" -eq 67108864 ]
check "an all-zero block is all hole" [ "$(stat -c %b "$TMP/x1/virt.flash0.bin")" -eq 0 ]
rm -rf "$TMP/x1" "$TMP/x2"
"$VMSTREAM" extract --block mach-virt.ram "$V/aa64-virt72-cortex-a57-2cpu.mig.gz" "$TMP/gz.bin" &&
    "$VMSTREAM" extract --block mach-virt.ram "$V/aa64-virt72-cortex-a57-2cpu.mig.zst" "$TMP/zst.bin"
check "gzip and zstd copies of one stream: same RAM" cmp -s "$TMP/gz.bin" "$TMP/zst.bin"
rm -f "$TMP/gz.bin" "$TMP/zst.bin"

# --- a cut stream writes nothing; usage errors write nothing
P=$(plain "$V/aa64-virt72-cortex-a57-1cpu.mig.zst")
head -c 400000 "$P" > "$TMP/cut.mig"
rc=0; "$VMSTREAM" extract "$TMP/cut.mig" "$TMP/cut" 2>"$TMP/err" || rc=$?
check "cut stream: extract exits 1" [ "$rc" -eq 1 ]
check "cut stream: the error names an offset" grep -q 'offset' "$TMP/err"
check "cut stream: no file left in DIR" [ -z "$(ls -A "$TMP/cut")" ]
rc=0; "$VMSTREAM" core "$TMP/cut.mig" "$TMP/cut.core" 2>/dev/null || rc=$?
left=$(ls -A "$TMP" | grep -c vmstream-)
check "cut stream: core exits 1, no temporary left" [ "$rc.$left" = 1.0 ]
check "cut stream: no core file" [ ! -e "$TMP/cut.core" ]
rc=0; "$VMSTREAM" extract --block nosuch "$P" "$TMP/nosuch" 2>/dev/null || rc=$?
check "extract --block of an unknown block: exit 2" [ "$rc" -eq 2 ]
check "extract --block of an unknown block: no file" [ ! -e "$TMP/nosuch" ]
rc=0; "$VMSTREAM" core "$P" - 2>/dev/null || rc=$?
check "core to standard output: exit 2" [ "$rc" -eq 2 ]

# --- core: class, notes per vCPU, PT_LOAD at 0x40000000
core_info() {   # VECTOR -> elfcmp info of its core
    "$VMSTREAM" core "$V/$1.mig.zst" "$TMP/c.core" 2>/dev/null && "$ELFCMP" info "$TMP/c.core"
}
core_info aa64-virt72-cortex-a57-2cpu > "$TMP/i"
check "a57 2 vCPUs: ELF64 AArch64" grep -q '^class=ELF64 data=lsb type=4 machine=183' "$TMP/i"
check "a57 2 vCPUs: one PT_LOAD of 32 MiB at 0x40000000" \
    grep -q '^PT_LOAD paddr=0x40000000 filesz=0x2000000' "$TMP/i"
n1=$(grep -c 'name=CORE type=0x1 descsz=392' "$TMP/i")
n2=$(grep -c 'name=CORE type=0x2 descsz=528' "$TMP/i")
check "a57 2 vCPUs: PRSTATUS, PRFPREG twice" [ "$n1.$n2" = 2.2 ]
core_info aa64-virt72-max-1cpu > "$TMP/i"
check "max: NT_ARM_SVE (vq 1 at reset: descsz 592)" grep -q 'name=LINUX type=0x405 descsz=592' "$TMP/i"
core_info arm-virt72-cortex-a15-2cpu > "$TMP/i"
check "a15: ELF32 EM_ARM" grep -q '^class=ELF32 data=lsb type=4 machine=40' "$TMP/i"
check "a15: ARM_VFP per vCPU" [ "$(grep -c 'name=LINUX type=0x400 descsz=260' "$TMP/i")" -eq 2 ]
rm -f "$TMP/c.core"

# --- diff
rc=0; "$VMSTREAM" diff "$P" "$V/aa64-virt72-cortex-a57-1cpu.mig.zst" > "$TMP/d" || rc=$?
check "diff A A (plain vs zstd): exit 0" [ "$rc" -eq 0 ]
check "diff A A: 0 differences" grep -q '^0 differences$' "$TMP/d"
rc=0; "$VMSTREAM" diff "$V/aa64-virt72-cortex-a57-2cpu.mig.zst" "$V/aa64-virt72-cortex-a53-2cpu.mig.zst" > "$TMP/d" || rc=$?
check "diff a57 a53: exit 1" [ "$rc" -eq 1 ]
check "diff a57 a53: CTR_EL0 of both vCPUs" [ "$(grep -c 'differs  CTR_EL0: 0x000000008444c004 (other) -> 0x0000000084448004' "$TMP/d")" -eq 2 ]
rc=0; "$VMSTREAM" diff "$TMP/cut.mig" "$P" > /dev/null 2>&1 || rc=$?
check "diff with a cut stream: exit 2" [ "$rc" -eq 2 ]
finish
