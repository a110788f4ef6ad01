#!/bin/bash
# The ordering instructions the split virtqueue needs on a weakly ordered CPU
# must be in the aarch64 code the compiler emitted for it (virtio 1.2 §2.7.13,
# src/core/virtqueue.c):
#   svd_vq_pop             ldarh   acquire load of avail->idx before the ring entry and descriptors
#                          dmb ish full fence between the avail_event store and the re-load (EVENT_IDX)
#   svd_vq_push            stlrh   release store of used->idx after the used element
#   svd_vq_need_interrupt  dmb ish full fence between used->idx and reading used_event / flags
# qemu-user on an x86-64 host runs aarch64 code with the host's stronger
# (TSO) ordering, so a missing barrier cannot show up as a failure there;
# this check looks at the instructions instead.
# usage: check-barriers.sh OBJDUMP virtqueue.o
# REQ: REQ-PORT-007
set -euo pipefail
objdump=${1:?usage: check-barriers.sh OBJDUMP OBJECT}
obj=${2:?usage: check-barriers.sh OBJDUMP OBJECT}
bad=0
need() { # FUNCTION MNEMONIC WHY
	local n pat=${2// /[[:space:]]+}
	n=$("$objdump" -d --no-show-raw-insn --disassemble="$1" "$obj" | grep -cE "[[:space:]]$pat([[:space:]]|$)" || true)
	if [ "$n" -gt 0 ]; then
		echo "barriers: $1: $2 x$n ($3)"
	else
		echo "barriers: $1: no $2 ($3 missing)"
		bad=1
	fi
}
need svd_vq_pop ldarh "acquire load of avail->idx"
need svd_vq_pop "dmb ish" "fence after the avail_event store"
need svd_vq_push stlrh "release store of used->idx"
need svd_vq_need_interrupt "dmb ish" "fence before reading used_event"
[ $bad = 0 ] && echo "barriers: $obj: every ordering instruction present"
exit $bad
