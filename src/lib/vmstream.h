/*
 * vmstream.h - the library's public face: what a program over libvms (the
 * CLI in src/cli, fuzz/ harnesses, bench/) includes, and all it includes.
 *
 * Owns nothing itself: it names the public header of every wing, lowest
 * first.  A header not listed here (the *_impl.h of each wing, walker and
 * vmdesc parsing internals) is private to the library.  What a program may
 * read of a struct is documented in its header; where a struct is opaque
 * (struct vms_src, struct vms_sink, struct vms_proxy) use its accessors.
 *
 *   base/     error latch, QEMU wire constants and limits
 *   io/       byte sources (files, pipes, gzip, zstd, libvirt) and sinks
 *   stream/   the parsed stream (sections, RAM blocks, commands, vmdesc),
 *             device-state layouts and RAM layouts by machine type
 *   arm/      the Arm cpu model, register ids and names, the vCPU
 *             iterator, register lists and their diff, check, profiles
 *   drivers/  convert, extract, core, diff, proxy
 */
#ifndef VMS_VMSTREAM_H
#define VMS_VMSTREAM_H

#include "error.h"
#include "wire.h"

#include "filter.h"
#include "libvirt.h"
#include "sink.h"
#include "src.h"

#include "layout.h"
#include "ramlayout.h"
#include "stream.h"
#include "cpuarch.h"
#include "twin.h"

#include "armcpu.h"
#include "check.h"
#include "cpreg.h"
#include "profile.h"
#include "regs.h"
#include "release.h"
#include "repair.h"
#include "vcpus.h"

#include "convert.h"
#include "diff.h"
#include "elfcore.h"
#include "extract.h"
#include "proxy.h"

#endif
