#!/usr/bin/env python3
"""`make prove`: Frama-C Eva over the analysis drivers and WP over the proved modules.

Usage: prove.py OUTDIR PAGE [--only NAME ...] [--root DIR] [--expect-fail]
                 [--wp-fct F,...] [--wp-prop P,...]

Runs every Eva driver (tests/prove/eva_*.c) and every WP unit listed below, each as
its own frama-c process (two at a time: the machine has 2 cores), writes the raw
logs and reports to OUTDIR, a summary to OUTDIR/results.json and the proof page
(Doxygen Markdown) to PAGE. Exit status 1 when any Eva alarm is raised, any Eva
property is not valid, any WP goal is not proved, or a run fails or times out.

--root DIR analyses the core found under DIR (include/, src/core/) instead of this
tree: the gate self-test points it at a copy of the core with a seeded defect.
--expect-fail inverts nothing; it only keeps the page from being written.
--wp-fct and --wp-prop (with --only only) narrow the WP units run to the named
functions and goals (frama-c's -wp-fct, -wp-prop): a seed's run then proves
only the goal the seed must break, not the whole unit again.

Each unit names the requirements it covers in a `REQ:` comment (tools/docs/trace.py
reads them), so the traceability matrix says which requirements a proof covers.
"""
import concurrent.futures
import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROVERS = "z3,cvc4"
WP_TIMEOUT = 40          # seconds per goal and prover: a resource bound, sized for a loaded 2-core CI machine (every goal still must be proved)
WP_STEPS = None
RUN_TIMEOUT = 600        # seconds per frama-c process
JOBS = 2
# Every WP unit runs with -wp-par 2: Z3 and CVC4 race on each goal, so a goal
# one of them cannot do costs the other's time, not the first one's full
# WP_TIMEOUT before the other starts (measured on wp_vq_rings: 322 s with one
# prover at a time, 6 goals Z3 ran to its timeout; 86 s racing, at the same
# load; every WP unit of the stage together: 178 s wall on 2 jobs).


def core(root, *names):
    return [str(root / "src" / "core" / n) for n in names]


# ----------------------------------------------------------------- WP units
# Each WP unit: the files parsed, the functions whose contracts are proved (None:
# every function of the files with a body), the memory model, extra options.

# REQ: REQ-CORE-003 REQ-CORE-004
def wp_span(root):
    return dict(files=core(root, "span.c"), fct=None, model="typed+cast",
                what="checked arithmetic, range check, spans and the reading cursor (span.h)",
                assumptions=["SVD-PRF-001", "SVD-PRF-004"])


# REQ: REQ-CORE-015 REQ-CORE-016 REQ-CORE-020
def wp_gmem(root):
    return dict(files=core(root, "gmem.c", "span.c"),
                fct=["gmem_find", "svd_gmem_translate_prefix", "svd_gmem_translate", "gmem_check_range",
                     "svd_gmem_check_host"],
                props="-@lemma", model="typed",
                what="guest memory translation: the returned range lies in one region and in the request (gmem.h)",
                assumptions=["SVD-PRF-001", "SVD-PRF-005"])


def wp_gmem_lemma(root):
    return dict(files=[str(root / "include" / "safevdev" / "gmem.h")], fct=None, props="@lemma",
                model="typed", extra=["-wp-auto", "wp:bitwised,wp:bitrange"],
                what="lemma gmem_access_write (bit reasoning, by WP's bitwise tactic)", assumptions=[])


# REQ: REQ-ENT-002
def wp_ratelimit(root):
    return dict(files=core(root, "ratelimit.c", "parse.c", "span.c"),
                fct=["tb_cfg_check", "svd_tb_init", "svd_tb_unlimited", "svd_tb_refill", "tb_has", "tb_take",
                     "svd_tb_cap", "svd_tb_wait_ns", "svd_ratelimit_init",
                     "rl_admit_limited", "svd_ratelimit_admit"],
                model="typed", extra=["-warn-unsigned-overflow"],
                what="token bucket: tokens never exceed the bucket, no overflow (also unsigned) for any now",
                assumptions=[])


# Two units over virtqueue.c (two processes, each well inside RUN_TIMEOUT on a
# loaded machine): ring placement, then the index helpers and the interrupt
# decision.
# REQ: REQ-VQ-031
def wp_vq_rings(root):
    return dict(files=core(root, "virtqueue.c", "gmem.c", "span.c"),
                fct=["vq_map_rings", "svd_vq_check_rings"],
                props="-@lemma", model="typed",
                what="virtqueue ring placement: the descriptor table, available and used rings (with the "
                     "EVENT_IDX fields) lie each inside one region with the access they need, aligned",
                assumptions=["SVD-PRF-005"])


def wp_vq_index(root):
    return dict(files=core(root, "virtqueue.c", "gmem.c", "span.c"),
                fct=["vq_le16", "vq_le32", "vq_le64", "vq_copy_in", "vq_size_ok", "vq_break", "vq_configurable",
                     "vq_is_inflight", "vq_usable", "svd_vq_need_interrupt"],
                props="-@lemma", model="typed",
                what="virtqueue index helpers and interrupt decision: the in-flight bitmap index stays in the "
                     "bitmap; used_event and the flags are read inside the available ring",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-008"])


# The split ring's pop and push, one unit per function (or pair of small
# functions) so that each frama-c process stays well inside RUN_TIMEOUT on a
# loaded machine. -wp-split: one goal per path and conjunct, each small.
_VQ_FILES = ("virtqueue.c", "gmem.c", "span.c")
_SPLIT = ["-wp-split"]


# One step of the chain walk: a buffer descriptor (write order, memory, byte
# total < 2^32, the segment recorded only within the caller's storage) and
# an indirect descriptor (the rules, the table's span of len / 16 <= size
# descriptors inside one region). One unit per function: together they were
# past RUN_TIMEOUT on a loaded machine. The buffer step runs without
# -wp-split: 74 goals instead of 383, each still small, in less prover time.
_STEP_FRAME = ["frame_sizes", "frame_read", "frame_write", "frame_apart"]
_NO_STEP_FRAME = ",".join(["-@lemma"] + ["-" + p for p in _STEP_FRAME])


def wp_vq_step_buffer(root):
    return dict(files=core(root, *_VQ_FILES), fct=["svd_vq_walk_buffer"],
                props=_NO_STEP_FRAME, model="typed",
                what="one buffer descriptor of the split-ring chain walk: write order, memory, the segment "
                     "recorded only within the caller's storage, byte total < 2^32",
                assumptions=["SVD-PRF-005", "SVD-PRF-007"])


def wp_vq_step_indirect(root):
    return dict(files=core(root, *_VQ_FILES), fct=["vq_walk_indirect"],
                props=_NO_STEP_FRAME, model="typed", extra=_SPLIT,
                what="one indirect descriptor of the split-ring chain walk: the rules, its table inside one "
                     "region, at most queue-size descriptors",
                assumptions=["SVD-PRF-005", "SVD-PRF-007"])


# The map's facts kept across a step (the frame_* postconditions of both
# steps): each step writes its totals, the caller's segments and a span,
# all apart from the map, so every region's fields and host ranges keep
# what gmem_ok says of them. A walk's loop carries gmem_ok by these.
def wp_vq_step_frame(root):
    return dict(files=core(root, *_VQ_FILES), fct=["svd_vq_walk_buffer", "vq_walk_indirect"],
                props=",".join(_STEP_FRAME), model="typed", extra=_SPLIT,
                what="both steps of the chain walk keep the memory map's facts (gmem_ok's four predicates): "
                     "what a step writes is apart from the map",
                assumptions=["SVD-PRF-005"])


# The walk: every descriptor read inside the table it indexes (the queue's
# or an indirect one), at most table-size descriptors per table (TTL), fewer
# than 2 * size descriptors per chain, a loop variant (the walk ends), and
# the loop invariant frame (the map's facts kept, from the steps' frame_*
# postconditions, wp_vq_step_frame).
# REQ: REQ-VQ-006 REQ-VQ-008
def wp_vq_walk(root):
    return dict(files=core(root, *_VQ_FILES), fct=["vq_walk_chain"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="split-ring chain walk: every descriptor read inside the table it indexes, at most "
                     "table-size descriptors per table, fewer than 2 * size per chain, segments within the "
                     "caller's storage, byte total < 2^32, the map's facts kept across every step, the walk "
                     "terminates",
                assumptions=["SVD-PRF-005", "SVD-PRF-007"])


# The walk's bounds alone: the loop invariants on the table (every
# descriptor read inside the table it indexes, at most table-size
# descriptors per table, fewer than 2 * size per chain), the run-time checks
# (-wp-rte), the loop variant, the segment and byte-total invariant (walk)
# and the map precondition of each step at its call (map). They take the
# loop invariant frame as given, which wp_vq_walk proves. A subset of
# wp_vq_walk, so not a stage unit: the gate self-test's unit for its walk
# seed (a quarter of wp_vq_walk's time).
def wp_vq_walk_bounds(root):
    return dict(files=core(root, *_VQ_FILES), fct=["vq_walk_chain"],
                props="tbl,main,idx,ttl,walk,direct,indirect,map,@assert,@variant", model="typed", extra=_SPLIT,
                what="split-ring chain walk, table bounds: every descriptor read inside the table it indexes "
                     "(the queue's or an indirect one), at most table-size descriptors per table, every run-time "
                     "check of the walk, segments within the caller's storage and byte total < 2^32 across the "
                     "loop, the map precondition of each step, the walk terminates",
                assumptions=["SVD-PRF-005", "SVD-PRF-007"])


# Hand-out: the available-ring slot inside the ring (vq_slot's contract,
# proved in wp_vq_push), the head in range and not in flight, the chain's
# bounds, the queue invariant kept.
def wp_vq_take(root):
    return dict(files=core(root, *_VQ_FILES), fct=["vq_commit", "vq_take"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="split-ring hand-out: the available slot inside the ring (slot < size), head < size and not "
                     "in flight, the chain's bounds, the invariant kept, the available index advanced by one",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-008"])


# svd_vq_pop: the state checks, the empty ring (with the EVENT_IDX re-check),
# nothing changed on failure; the packed pop is taken as its contract says
# (SVD-PRF-010). Two units (together they were past RUN_TIMEOUT on a loaded
# machine): the postconditions, then the rest (run-time checks, assigns, the
# callees' preconditions).
_POP_POST = ["errs", "state", "inv", "broken", "ok", "kept", "untouched"]


def wp_vq_pop_post(root):
    return dict(files=core(root, *_VQ_FILES), fct=["svd_vq_pop"],
                props=",".join(_POP_POST), model="typed", extra=_SPLIT,
                what="split-ring pop, its postconditions: state checks, empty ring (EVENT_IDX re-check), nothing "
                     "changed on failure, the chain's bounds, the invariant kept",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-008", "SVD-PRF-010", "SVD-PRF-013"])


def wp_vq_pop(root):
    return dict(files=core(root, *_VQ_FILES), fct=["svd_vq_pop"],
                props=",".join(["-@lemma"] + ["-" + p for p in _POP_POST]), model="typed", extra=_SPLIT,
                what="split-ring pop, all but its postconditions: every run-time check, the assigns clause, "
                     "the preconditions of vq_usable, vq_take and the packed pop at their calls",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-008", "SVD-PRF-010", "SVD-PRF-013"])


# Completion: the used element stored inside the used ring (slot = index &
# (size - 1) < size, by cases over the 16 sizes, SVD-PRF-011), the token
# rules (valid, this epoch, head in flight), nothing written on failure, the
# used index advanced by one (split). The packed hand-over is its contract
# (svd_vqp_push, proved by wp_vqp_push).
# REQ: REQ-VQ-019
def wp_vq_push(root):
    return dict(files=core(root, *_VQ_FILES), fct=["vq_slot", "svd_vq_push"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="ring slot (index & (size - 1) < size for each of the 16 sizes) and split-ring push: the used "
                     "element inside the used ring, only a valid token "
                     "of this epoch whose head is in flight, nothing changed on failure, used index + 1",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-008", "SVD-PRF-011"])


# Enable: the split rings mapped (each inside one region with its access,
# aligned), the queue running with nothing in flight and its invariant
# established; what it may write named (the queue's fields, and for a packed
# queue guest memory: svd_vqp_enable's contract, SVD-PRF-010).
def wp_vq_enable(root):
    return dict(files=core(root, *_VQ_FILES), fct=["svd_vq_enable"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="enable: the queue invariant established (rings inside guest memory, apart from the queue), "
                     "nothing in flight, a refusal latches; writes named in assigns",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-010", "SVD-PRF-011"])


# The packed ring (vq_packed.c), one unit per step as for the split ring.
# Only vq_packed.c is parsed: what it calls (the buffer step, guest memory
# translation, the span loads) is taken as its contract, proved in its own
# unit (wp_vq_step_buffer, wp_gmem, wp_span).
_VQP_FILES = ("vq_packed.c",)


# Positions (offset and wrap counter, advance keeps a position inside the
# ring), the descriptor slot, the ring placement (each area inside one
# region with its access), the restart position.
# REQ: REQ-VQ-101
def wp_vqp_pos(root):
    return dict(files=core(root, *_VQP_FILES),
                fct=["vqp_le16", "vqp_le32", "vqp_copy_in", "vqp_get16", "vqp_break", "vqp_wrap", "vqp_off",
                     "vqp_cycle", "vqp_dist", "vqp_advance", "vqp_rewind", "vqp_is_avail", "vqp_slot",
                     "vqp_map_rings", "svd_vq_check_rings_packed", "svd_vqp_base"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="packed-ring positions and placement: an advance by at most the size keeps the ring "
                     "offset below the size, the slot of a position inside the ring, the descriptor ring and "
                     "both event structures each inside one region with the access they need, aligned",
                assumptions=["SVD-PRF-005", "SVD-PRF-007"])


# One indirect table of the packed walk: every entry read inside the table,
# at most queue-size entries, no nesting; and the ring walk: every descriptor
# read inside the ring, at most queue-size (and `room`) descriptors per
# chain, the walk ends. Both carry the loop invariant frame (gmem_ok's four
# predicates) across a step by the steps' frame_* postconditions, as the
# split walk does.
# REQ: REQ-VQ-107
def wp_vqp_indirect(root):
    return dict(files=core(root, *_VQP_FILES), fct=["vqp_indirect"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="packed-ring indirect table: every entry read inside the table (inside one region), at most "
                     "queue-size entries, nesting refused, segments within the caller's storage, byte total < 2^32, "
                     "the map's facts kept",
                assumptions=["SVD-PRF-005", "SVD-PRF-007"])


def wp_vqp_walk(root):
    return dict(files=core(root, *_VQP_FILES), fct=["vqp_walk_chain"],
                props="-@lemma", model="typed",
                what="packed-ring chain walk: every descriptor read inside the ring, at most queue-size and at "
                     "most the free descriptors (room) per chain, segments within the caller's storage, byte "
                     "total < 2^32, the walk terminates",
                assumptions=["SVD-PRF-005", "SVD-PRF-007"])


# Hand-out and pop: the buffer id below the size before it indexes the
# in-flight bitmap, not in flight; the token; the queue invariant kept
# (positions inside the ring); nothing changed on failure but the latch.
def wp_vqp_take(root):
    return dict(files=core(root, *_VQP_FILES), fct=["vqp_commit", "vqp_count", "vqp_take"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="packed-ring hand-out: buffer id < size before the in-flight bitmap, not in flight, the "
                     "token and the chain's bounds, the invariant kept, a refusal latches and leaves the chain",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-008", "SVD-PRF-010"])


def wp_vqp_pop(root):
    return dict(files=core(root, *_VQP_FILES), fct=["svd_vqp_pop"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="packed-ring pop (svd_vqp_pop, core_priv.h): the head's flags read inside the ring, the "
                     "empty ring (EVENT_IDX re-check), the hand-out's result rules",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-008", "SVD-PRF-010"])


# Completion and the interrupt decision: the used descriptor written in the
# ring slot of used_idx, the position kept inside the ring.
# REQ: REQ-VQ-108
def wp_vqp_push(root):
    return dict(files=core(root, *_VQP_FILES), fct=["svd_vqp_push", "svd_vqp_need_interrupt"],
                props="-@lemma", model="typed",
                what="packed-ring push and interrupt decision: the used descriptor inside the ring, the used "
                     "position kept inside the ring, the in-flight bit of a head below the size; the driver "
                     "event structure read inside its 4 bytes",
                assumptions=["SVD-PRF-007", "SVD-PRF-008"])


# Enable: the three areas mapped, the positions checked, the queue
# invariant established (areas apart from the queue, from gmem_apart).
def wp_vqp_enable(root):
    return dict(files=core(root, *_VQP_FILES), fct=["svd_vqp_enable"],
                props="-@lemma", model="typed", extra=_SPLIT,
                what="packed-ring enable (svd_vqp_enable, core_priv.h): the queue invariant established (areas "
                     "inside guest memory, apart from the queue, positions inside the ring), nothing in flight, "
                     "a refusal latches; writes named in assigns",
                assumptions=["SVD-PRF-005", "SVD-PRF-007", "SVD-PRF-011"])


# Contracts written in the core (ACSL) whose goals WP does not prove yet within
# the stage's budget: not part of the stage (so nothing rests on them), listed
# on the proof page so no reader takes them for proved. The units of
# WP_UNITS_OPEN hold some of them: `--only NAME` runs one, the stage does not.
WP_PENDING = {
    "vq_commit, vq_take (unit wp_vq_take)":
        "231 of 235 goals proved (-wp-split, 40 s per goal, 409 s); open: on the EVENT_IDX success path (the "
        "avail_event store, then the chain token's stores), two parts of inv and two of ok. The invariant is "
        "proved up to the token's stores (assertions walked, counted, published); the provers do not carry it "
        "across them (the chain is required apart from the queue, \\separated(c, q, m)), whether those stores "
        "come first or last, as separate stores or as one call assigning *c. Restating the fields the "
        "invariant reads as equalities across the stores moves the open goals but does not close them",
    "vqp_walk_chain (unit wp_vqp_walk)":
        "the packed ring walk's contract, loop invariants and variant are written; the unit does not finish "
        "inside RUN_TIMEOUT on this machine (WP's simplifier: 12 to 25 s per goal for its 123 goals without "
        "-wp-split; 418 goals with it, past 600 s at load 7); vqp_take rests on its contract (SVD-PRF-010)",
    "vqp_commit, vqp_count, vqp_take (unit wp_vqp_take)":
        "214 of 217 goals proved (-wp-split, 40 s per goal, 597 s at load 7); open: one part of inv and two of ok, "
        "the chain's token fields and the queue's fields read across the other's stores (a frame, as SVD-PRF-013 "
        "for the split hand-out); the buffer id below the size before the in-flight bitmap index, the id not in "
        "flight and nothing but the latch changed on failure are proved",
    "svd_vqp_enable (unit wp_vqp_enable)":
        "105 of 107 goals proved (-wp-split, 143 s); open: two assigns goals, the device event store inside a "
        "region's host bytes (the contract names what it may write through an existential region index, which "
        "the provers do not instantiate); the ring areas apart from the queue (assertion apart) are proved",
}

# Longest first: two processes at a time pack better.
WP_UNITS = [wp_vq_walk, wp_vq_push, wp_vq_enable, wp_ratelimit, wp_vqp_pos, wp_vqp_indirect, wp_vqp_pop,
            wp_vqp_push, wp_vq_index, wp_vq_pop, wp_vq_pop_post, wp_vq_step_frame, wp_vq_step_buffer, wp_gmem,
            wp_vq_rings, wp_vq_step_indirect, wp_span, wp_gmem_lemma]
# Units whose goals are not all proved yet (WP_PENDING): run only on request.
WP_UNITS_OPEN = [wp_vq_take, wp_vqp_walk, wp_vqp_take, wp_vqp_enable]
# Units the stage does not run because a stage unit proves their goals too:
# the gate self-test's faster units for its seeds (`--only NAME`).
WP_UNITS_GATE = [wp_vq_walk_bounds]

# ---------------------------------------------------------------- Eva drivers
# Each driver is tests/prove/eva_NAME.c with a main(); the core files it builds.
CORE_ALL = ["result.c", "span.c", "gmem.c", "parse.c", "ratelimit.c", "wdt.c"]


# REQ: REQ-GATE-016
def eva_wdt_esb(root):
    return dict(files=core(root, "result.c", "wdt.c", "wdt_i6300esb.c"), slevel=20,
                what="i6300ESB engine: init, then up to 24 calls chosen at random among access (any space, "
                     "address, width 0..9, direction, value), tick, reset and the getters, each at any now")


# REQ: REQ-GATE-016
def eva_wdt_sp805(root):
    return dict(files=core(root, "result.c", "wdt.c", "wdt_sp805.c"), slevel=20,
                what="SP805 engine: init with any frequency and base, then up to 24 calls chosen at random "
                     "among access (any space, address, width, direction, value), tick, reset, deadline, "
                     "each at any now")


# REQ: REQ-GATE-016
def eva_wdt_ib700(root):
    return dict(files=core(root, "result.c", "wdt.c", "wdt_ib700.c"), slevel=20,
                what="IB700 engine: init with any action and base, then up to 24 calls chosen at random "
                     "among access (any space, address, any width, direction, value), tick, reset, the "
                     "timeout table and deadline, each at any now")


# REQ: REQ-GATE-016
def eva_options(root):
    return dict(files=core(root, "result.c", "span.c", "parse.c", "ratelimit.c", "wdt.c"), slevel=10,
                entry=["svd_parse_u64", "svd_parse_pair", "svd_rate_opt_set", "svd_rate_to_buckets",
                       "svd_rate_opt_name", "svd_rate_opt_expects", "svd_wdt_action_parse", "svd_wdt_action_name",
                       "svd_err_name", "svd_why_name"],
                # The string loops unrolled (each bounded by its grammar: 65 characters, a name's length,
                # four actions) so each character is read at a known index; -eva-ilevel 256 keeps a
                # character "anything but NUL" exact (an interval cannot leave out the 0 inside it).
                extra=["-eva-ilevel", "256", "-eva-slevel-function", "wdt_streq:100",
                       "-eva-slevel-function", "svd_wdt_action_parse:100", "-eva-slevel-function", "bounded_len:100",
                       "-eva-slevel-function", "svd_parse_pair:3000"],
                what="option parsers and names: svd_parse_u64/pair, svd_rate_opt_set (any option, in range or "
                     "not)/to_buckets and names, svd_wdt_action_parse/name, svd_err_name, svd_why_name (any value "
                     "of the enumeration, in range or not) on strings of unknown content (NUL-terminated buffers "
                     "of 72 bytes: a NUL anywhere, or none within the parser's 65-character bound), and NULL")


# REQ: REQ-GATE-016
def eva_ratelimit(root):
    return dict(files=core(root, "result.c", "span.c", "parse.c", "ratelimit.c"), slevel=10,
                entry=["svd_tb_init", "svd_tb_unlimited", "svd_tb_refill", "svd_tb_cap", "svd_tb_wait_ns",
                       "svd_ratelimit_init", "svd_ratelimit_admit"],
                # States partitioned on how each bucket was configured (unlimited / limited / refused):
                # a bucket's size never changes after init, and a join of an unlimited bucket's state with
                # a limited one's loses that a bucket found short of tokens is limited (its size non-zero).
                extra=["-eva-partition-value", "eva_tb_mode,eva_rl_bytes,eva_rl_ops"],
                what="token buckets: any configuration (unlimited, in the limits, or above them: refused), "
                     "then up to 24 calls chosen at random among refill, wait_ns (n capped to the bucket, as "
                     "the header requires), unlimited and admit with any n and any now (a clock that goes "
                     "backwards included)")


# REQ: REQ-GATE-016
def eva_span(root):
    return dict(files=core(root, "result.c", "span.c"), slevel=10,
                # One partition per span length (0..64): the cursor's bound, remaining() = len - pos, is a
                # relation between two values Eva keeps apart.
                # No widening over the 12 calls (-eva-widening-delay 20), which would lose pos <= len.
                extra=["-eva-partition-value", "eva_len", "-eva-split-limit", "100", "-eva-widening-delay", "20"],
                what="spans and the reading cursor over unknown bytes of any length 0..64: up to 12 calls among "
                     "skip (any n), read_le64 and remaining; the little-endian loads and stores at any offset "
                     "where they fit")


# REQ: REQ-GATE-016
def eva_health(root):
    return dict(files=core(root, "result.c", "span.c", "health.c"), slevel=10,
                what="entropy health tests: init at any stated min-entropy (0..9, 0 and 9 refused), then up to 8 "
                     "batches of unknown bytes of any length 0..2048, with or without the failed-test output, "
                     "and the state and statistics getters")


# REQ: REQ-GATE-016
def eva_gmem(root):
    return dict(files=core(root, "result.c", "span.c", "gmem.c"), slevel=10,
                # Widening only after the driver's 17 region adds: the region count is then exact
                # (0..16), where widening at the third add would lose the bound svd_gmem_add keeps.
                extra=["-eva-widening-delay", "20"],
                what="guest memory map: twice, init and 17 adds (one more than the map holds) with any guest "
                     "address, size 0..64, access 0..4 and host buffer or NULL, then up to 8 translations "
                     "(translate, translate_prefix, check_host) of any range with any access")


VDEV_FILES = ["result.c", "span.c", "gmem.c", "health.c", "device.c", "mmio.c", "pci.c", "virtqueue.c", "vq_packed.c", "vdev.c",
              "entropy.c", "ratelimit.c", "parse.c"]


# REQ: REQ-GATE-016
def eva_vdev_mmio(root):
    return dict(files=core(root, *VDEV_FILES),
                what="composed virtio-entropy engine over virtio-mmio (any rate limits, source-open policy, "
                     "stated min-entropy 0..9, queue_max 1..256, window base and vendor), then up to 16 face calls chosen at random: "
                     "access (any space, address, width 0..9, direction, value), kick of any queue, tick, reset, "
                     "host queue start/stop/base with any setup, getters; any now; then the model's counters and the "
                     "ring checks (split and packed) with any arguments against the map or NULL; a source that returns any count "
                     "or fails; a guest memory map with no region")


# REQ: REQ-GATE-016
def eva_vdev_pci(root):
    d = eva_vdev_mmio(root)
    d["what"] = d["what"].replace("virtio-mmio (any", "virtio-pci (any class code, subsystem IDs, 32/64-bit and "
                                  "prefetchable BAR0, MSI-X not offered, any")
    return d


# REQ: REQ-GATE-016
def eva_vdev_none(root):
    d = eva_vdev_mmio(root)
    d["what"] = d["what"].replace("over virtio-mmio", "host-driven (SVD_XPORT_NONE, vhost-user)")
    return d


VQ_FILES = ["result.c", "span.c", "gmem.c", "virtqueue.c", "vq_packed.c"]
# Settings of the queue drivers (eva_vq.h): one partition per queue size (every position and index is
# compared with a known size); -eva-partition-history 3 keeps a failed enable's state (ring pointers NULL)
# apart from a successful one's through svd_vq_enable's return; -eva-ilevel 40 keeps the packed ring's
# positions (2 x 8 values: position and wrap counter) exact sets rather than intervals.
VQ_EVA = ["-eva-partition-value", "eva_vq_size", "-eva-partition-history", "3", "-eva-ilevel", "40"]
VQ_WHAT = ("{ring} virtqueue with {feat}: set up through svd_vq_* as svd_dev_queue_start does (size any power "
           "of two 1..8, rings at fixed offsets of a read-write region, start indices the format's or any "
           "value{resync}), over five regions of unknown contents (read-write, read-write adjacent, "
           "write-only, read-only, write-only), then up to 4 calls among pop into either of two chains "
           "(0..2 segments), push of either chain with any written length, need_interrupt, base, and the "
           "guest rewriting every byte")


def eva_vq(root, ring, feat):
    return dict(files=core(root, *VQ_FILES), slevel=20, extra=list(VQ_EVA),
                what=VQ_WHAT.format(ring=ring, feat=feat,
                                    resync=", then svd_vqp_resync or not" if ring == "packed" else ""))


# REQ: REQ-GATE-016
def eva_vq_split_plain(root):
    return eva_vq(root, "split", "neither EVENT_IDX nor INDIRECT_DESC")


# REQ: REQ-GATE-016
def eva_vq_split_event(root):
    return eva_vq(root, "split", "EVENT_IDX (avail_event written, used_event honoured)")


# REQ: REQ-GATE-016
def eva_vq_packed_plain(root):
    return eva_vq(root, "packed", "neither EVENT_IDX nor INDIRECT_DESC")


# REQ: REQ-GATE-016
def eva_vq_packed_event(root):
    return eva_vq(root, "packed", "EVENT_IDX (off/wrap in both event structures)")


# The INDIRECT_DESC drivers: also the return states of gmem_find kept apart by
# the region found (-eva-split-return-function gmem_find:full). An indirect
# table's address is any guest value; joined over the regions, the offset in
# the region (gpa - region base) is unbounded, kept apart it lies inside the
# region and the table read inside its host object.
VQ_INDIRECT_EVA = ["-eva-split-return-function", "gmem_find:full"]


# REQ: REQ-GATE-016
def eva_vq_split_indirect(root):
    d = eva_vq(root, "split", "EVENT_IDX and INDIRECT_DESC")
    d["extra"] += VQ_INDIRECT_EVA
    return d


# REQ: REQ-GATE-016
def eva_vq_packed_indirect(root):
    d = eva_vq(root, "packed", "EVENT_IDX and INDIRECT_DESC")
    d["extra"] += VQ_INDIRECT_EVA
    return d



# The entropy model's serve over a live queue (eva_entropy_serve.h): the
# queue drivers' set-up, the model built as a shim builds it, one serve.
# Settings, each measured: the states partitioned also on how each bucket is
# configured (unlimited / limited: a join loses that a bucket short of tokens
# has a non-zero size, a division by zero in svd_tb_wait_ns); gmem_find's
# returned states kept apart per region (a joined region and offset make a
# segment's host pointer one that may lie past its object, so the model's
# test of it against NULL is an alarm); the model's functions, the source
# and the health tests at slevel 0 (their states merged: the nested loops of
# the fill, segments x short reads x source rounds x samples, were the cost,
# over 600 s with slevel); widening from the first iteration (-eva-widening-
# delay 1, -period 1: halves the fill's fixpoint iterations; the queue
# drivers pass with it too). Split: -eva-partition-history 1 (the queue
# drivers' 3 tripled the states reaching the fill). Packed: the queue
# drivers' 3 (with 1 the packed walk's reads raise 5 false alarms, in the
# queue driver too), and the walk's loop unrolled (vqp_walk_chain:200, at
# most 8 descriptors): merged, its segment count is widened past the
# chain's 16 slots of storage and the model's read of a segment is a false
# alarm. Packed is two drivers, sizes 1..2 and 4..8 (one took 664 s on the
# loaded machine, past RUN_TIMEOUT).
ES_FILES = VQ_FILES + ["health.c", "ratelimit.c", "entropy.c"]
ES_SLEVEL0 = ["ent_serve", "ent_process", "complete_pending", "admit_pending", "fill_chain", "source_fill",
              "source_starved", "svd_health_feed", "eva_es_read"]
ES_WHAT = ("virtio-entropy model's serve (svd_entropy_model's serve, the call that fills the guest's buffers) "
           "over a live {ring} virtqueue: the queue set up as the queue drivers do (size {sizes}, "
           "start indices the format's or any{resync}, five regions of unknown contents, so any ring contents "
           "and any chain the walk accepts), the model built with any rate limits (each bucket unlimited or "
           "limited), source-open policy, retry times and stated min-entropy over a source that answers a "
           "failure, any count up to the request of any bytes, or a count above it; the model's and the "
           "health tests' totals any value; then one serve at any now with a byte budget of any value the "
           "engine accepts (1..2^30) and a descriptor budget of 1 (one chain taken, of any length): pop, "
           "admission, the source's rounds through the health tests, the copy into each writable segment "
           "(in one region or across a region edge), push")


def eva_es(root, ring, sizes="any power of two 1..8"):
    extra = ["-eva-partition-value", "eva_vq_size,eva_es_rl_bytes,eva_es_rl_ops",
             "-eva-partition-history", "3" if ring == "packed" else "1", "-eva-ilevel", "40",
             "-eva-split-return-function", "gmem_find:full", "-eva-widening-delay", "1", "-eva-widening-period", "1"]
    if ring == "packed":
        extra += ["-eva-slevel-function", "vqp_walk_chain:200"]
    for f in ES_SLEVEL0:
        extra += ["-eva-slevel-function", f + ":0"]
    # memcpy and memset are checked (SVD-PRF-023): the model's copy into the
    # guest's buffer is a memcpy.
    return dict(files=core(root, *ES_FILES), slevel=20, extra=extra,
                what=ES_WHAT.format(ring=ring, sizes=sizes,
                                    resync=", then svd_vqp_resync or not" if ring == "packed" else ""))


# REQ: REQ-GATE-016
def eva_entropy_serve_split(root):
    return eva_es(root, "split")


# REQ: REQ-GATE-016
def eva_entropy_serve_packed(root):
    return eva_es(root, "packed", "4 or 8")


# REQ: REQ-GATE-016
def eva_entropy_serve_packed_small(root):
    return eva_es(root, "packed", "1 or 2")


# REQ: REQ-GATE-016
def eva_vdev_pci_msix(root):
    d = eva_vdev_pci(root)
    d["what"] = d["what"].replace("MSI-X not offered", "MSI-X offered or not")
    return d


# REQ: REQ-GATE-016
def eva_fdt(root):
    return dict(files=core(root, "result.c", "fdt.c"), slevel=10,
                extra=["-eva-partition-value", "eva_node_kind", "-eva-slevel-function", "str_len_ok:100",
                       "-eva-slevel-function", "strings_ok:400", "-eva-slevel-function", "name_ok:100",
                       "-eva-slevel-function", "put_name:100"],
                what="device-tree writers: a node from svd_fdt_virtio_mmio, svd_fdt_node_init or any fields and "
                     "strings of unknown content, svd_fdt_gic_irq with any ID/trigger/parent, then check, name, "
                     "prop (any index) and blob into buffers of any capacity up to their size")


# The AML writers, one driver each (one driver over both took 379 s).
# REQ: REQ-GATE-016
def eva_aml_dev(root):
    return dict(files=core(root, "result.c", "aml.c"), slevel=10,
                what="AML Device term (svd_aml_virtio_mmio): up to 4 devices, each with any fields and a name of "
                     "unknown content or NULL, encoded into a buffer of any capacity up to its size; a NULL device")


# REQ: REQ-GATE-016
def eva_aml_ssdt(root):
    # The driver's loop over the 33 devices unrolled (main:100): merged, its
    # stores would be weak and keep each name's initial NULL beside the buffer.
    return dict(files=core(root, "result.c", "aml.c"), slevel=10, extra=["-eva-slevel-function", "main:100"],
                what="SSDT writer (svd_aml_ssdt): 33 devices (one more than an SSDT holds) with any fields and "
                     "names of unknown content (a NULL name is eva_aml_dev's: the same dev_ok check), an SSDT of any count 0..33 of them into a buffer of any "
                     "capacity up to its size; a NULL device array")


EVA_DRIVERS = [eva_aml_ssdt, eva_fdt, eva_vdev_pci_msix, eva_span, eva_vdev_pci, eva_vdev_mmio, eva_vq_packed_indirect,
               eva_vq_split_indirect, eva_vq_packed_event, eva_vq_packed_plain, eva_vq_split_event,
               eva_vq_split_plain, eva_options, eva_wdt_esb, eva_health, eva_gmem, eva_vdev_none,
               eva_wdt_sp805, eva_ratelimit, eva_wdt_ib700, eva_aml_dev]

# Drivers written whose analysis does not yet end with 0 alarms: not part of
# the stage (run them with --only NAME); every alarm they raise has been
# analysed and found false (a precision loss of Eva's non-relational domains,
# named here), none is a defect of the core. The page lists them.
EVA_PENDING = {
    "eva_entropy_serve_split, eva_entropy_serve_packed, eva_entropy_serve_packed_small":
        "the entropy model's serve over a live queue: every statement of the serve path reached (fill_chain, "
        "source_fill, complete_pending, admit_pending, source_starved 100%), and with memcpy unchecked (Eva's "
        "own builtin under -no-annot) 0 alarms; with memcpy's range checked "
        "(SVD_EVA_MEM_CHECKED, SVD-PRF-023) split and packed sizes 1..2 raise 2 alarms each, both at the model's copy into the guest "
        "segment (source_fill's memcpy, its first and its last byte). They are a precision loss: the copy's "
        "length is at most the segment's length less the offset already written, and the segment lies in one "
        "region (svd_gmem_check_host's WP contract), but Eva keeps the segment's host pointer, its length and "
        "the offset as unrelated intervals (the source's rounds unrolled, source_fill:200, the 2 alarms stay). "
        "Time on the loaded machine (load 8 to 11 on 2 cores): split 368 s wall, about 120 s CPU; packed sizes "
        "1..2 404 s; packed sizes 4..8 past RUN_TIMEOUT (600 s); all three over the stage's per-driver budget",
}
EVA_PENDING_DRIVERS = [eva_entropy_serve_split, eva_entropy_serve_packed, eva_entropy_serve_packed_small]

EVA_BUILTINS = ("memcpy", "memset")

# Public core functions no gated Eva driver reaches yet, and why (the page and
# the stage's summary list every public function not reached; each one not
# named here is reported without a reason).
EVA_NOT_REACHED_WHY = {}


def public_functions(root, files=None):
    """(file, function) of every function with external linkage in the core (or in @files)."""
    pub = set()
    paths = [pathlib.Path(f) for f in files] if files else sorted((root / "src" / "core").glob("*.c"))
    for f in paths:
        if f.suffix != ".c" or "src/core" not in str(f):
            continue
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            m = re.match(r"^(?!static\b)(?:const\s+)?[a-z_]\w*(?:\s+|\s*\*\s*)(svd_\w+)\(", line)
            if m:
                pub.add((f.name, m.group(1)))
    return pub


def driver_entries(driver, public):
    """Public core functions a driver (and the eva_*.h it includes) calls by name."""
    names = {fn for _, fn in public}
    text = driver.read_text(encoding="utf-8")
    for inc in re.findall(r'#include "(eva_\w+\.h)"', text):
        text += (HERE / inc).read_text(encoding="utf-8")
        for inc2 in re.findall(r'#include "(eva_\w+\.h)"', (HERE / inc).read_text(encoding="utf-8")):
            text += (HERE / inc2).read_text(encoding="utf-8")
    return sorted(set(re.findall(r"\b(svd_\w+)\s*\(", text)) & names)


def cpp_args(root):
    # -c11: the core is C11 (pci.c checks its layout with _Static_assert, which
    # Frama-C parses only in C11 mode).
    return ["-c11", "-cpp-extra-args=-I%s -include %s -DSVD_VERSION=\"prove\"" % (root / "include", HERE / "fc_builtins.h")]


def run(cmd, log, timeout):
    t0 = time.monotonic()
    with open(log, "w", encoding="utf-8") as f:
        f.write(" ".join(cmd) + "\n")
        f.flush()
        try:
            p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, cwd=REPO)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    return rc, time.monotonic() - t0


def run_wp(name, u, out, root):
    js = out / f"{name}.json"
    if js.exists():
        js.unlink()
    cmd = ["frama-c"] + cpp_args(root) + \
          ["-cpp-extra-args=-DSVD_PROVE_WP"] + u["files"] + \
          ["-wp", "-wp-rte", "-wp-prover", PROVERS, "-wp-timeout", str(WP_TIMEOUT), "-wp-par", "2",
           "-wp-model", u["model"], "-wp-report-json", str(js)]
    if u.get("fct"):
        cmd += ["-wp-fct", ",".join(u["fct"])]
    if u.get("props"):
        cmd += ["-wp-prop=" + u["props"]]
    cmd += u.get("extra", [])
    log = out / f"{name}.log"
    rc, dt = run(cmd, log, RUN_TIMEOUT)
    text = log.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"Proved goals:\s+(\d+)\s*/\s*(\d+)", text)
    proved, total = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    failed = sorted(set(re.findall(r"\[(?:Failed|Timeout|Unknown)\] Goal (\S+)", text)) |
                    set(re.findall(r"Goal (\S+) : (?:Unknown|Timeout|Failed)", text)))
    per_fct = {}
    if js.exists():
        data = json.loads(js.read_text(encoding="utf-8"))
        for fn, props in data.get("wp:functions", {}).items():
            t = v = 0
            provers = set()
            for pk, pr in props.items():
                if pk == "wp:section":  # the function's summary of the goals listed beside it
                    continue
                mn = pr.get("wp:main", {})
                t += mn.get("total", 0)
                v += mn.get("valid", 0)
                provers |= {k.split(":")[0] for k in pr if k not in ("wp:main",) and pr[k].get("valid")}
            per_fct[fn] = dict(total=t, proved=v, provers=sorted(provers))
    ok = rc == 0 and total > 0 and proved == total and not failed
    return dict(kind="wp", name=name, ok=ok, rc=rc, time=dt, proved=proved, total=total, failed=failed,
                functions=per_fct, what=u["what"], assumptions=u.get("assumptions", []),
                files=[os.path.relpath(f, root) for f in u["files"]])


def run_eva(name, d, out, root):
    csvf = out / f"{name}.csv"
    if csvf.exists():
        csvf.unlink()
    driver = HERE / f"{name}.c"
    # -no-annot: Eva checks the C semantics of the code as compiled; the ACSL
    # contracts in the core are WP's (proved there), and a contract Eva cannot
    # decide on imprecise values would only add unknown statuses.
    # memcpy and memset with their ranges checked (fc_builtins.h, SVD-PRF-023):
    # under -no-annot Eva's builtins check none. Every driver.
    cpp = d.get("cpp", []) + ["-DSVD_EVA_MEM_CHECKED"]
    cmd = ["frama-c", "-no-annot"] + cpp_args(root) + ["-cpp-extra-args=" + a for a in sorted(set(cpp))] + \
          [str(driver)] + d["files"] + \
          ["-eva", "-main", "main", "-eva-slevel", str(d.get("slevel", 20)),
           "-eva-partition-history", "1", "-eva-interprocedural-history",
           "-eva-domains", d.get("domains", "equality"), "-eva-no-show-progress"] + d.get("extra", []) + [
           "-then", "-report-csv", str(csvf), "-then", "-metrics", "-metrics-eva-cover"]
    log = out / f"{name}.log"
    rc, dt = run(cmd, log, RUN_TIMEOUT)
    text = log.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"(\d+) alarms? generated by the analysis", text)
    alarms = int(m.group(1)) if m else -1
    m = re.search(r"(\d+) functions? analyzed \(out of (\d+)\)", text)
    reached, defined = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    unreached = []
    m = re.search(r"Unreached functions \(\d+\) =\s*\n(.*?)\n\[metrics\]", text, re.S)
    if m:
        for part in re.findall(r"<([^>]+)>:\s*([^<]*)", m.group(1)):
            for fn in re.split(r"[;\s]+", part[1]):
                if fn:
                    unreached.append((os.path.relpath(part[0], root) if part[0].startswith("/") else part[0], fn))
    errors = len(re.findall(r"^\[[a-z:-]+\] .*(?:User Error|Failure|aborted)", text, re.M))
    per_fct = {}
    not_valid = []
    if csvf.exists():
        with open(csvf, encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                fn = row["function"]
                e = per_fct.setdefault(fn, dict(alarms=0, props=0, valid=0))
                e["props"] += 1
                if fn in EVA_BUILTINS and row["property kind"] in ("assigns clause", "from clause"):
                    # Eva replaces these libc functions by its exact builtins and
                    # does not use (so does not check) their assigns clauses.
                    e["valid"] += 1
                    continue
                if row["status"].startswith("Valid"):
                    e["valid"] += 1
                else:
                    not_valid.append(f"{row['file']}:{row['line']} {fn}: {row['property kind']} "
                                     f"{row['status']}: {row['property']}")
                if row["property kind"].startswith("alarm") or "rte" in row["property kind"].lower():
                    e["alarms"] += 1
    stmts = re.search(r"In these functions, (\d+) statements reached \(out of (\d+)\)", text)
    ok = rc == 0 and alarms == 0 and not not_valid and errors == 0 and reached > 0
    public = public_functions(root, d["files"])
    # Eva's functions: the metrics list every analysed function with its statements reached (a function
    # nothing calls is in neither this list nor "Unreached functions").
    m = re.search(r"Statements analyzed by Eva\n.*?\n(.*?)(?:\n\[|\Z)", text, re.S)
    analysed = set()
    if m:
        for fn, n_hit in re.findall(r"^\s+(\w+): (\d+) stmts out of \d+", m.group(1), re.M):
            if int(n_hit) > 0:
                analysed.add(fn)
    reached_public = sorted(fn for _, fn in public if fn in analysed)
    return dict(kind="eva", entries=driver_entries(driver, public), reached_public=reached_public, name=name, ok=ok, rc=rc, time=dt, alarms=alarms, reached=reached, defined=defined,
                unreached=unreached, not_valid=not_valid, functions=per_fct, what=d["what"],
                settings=" ".join(d.get("extra", [])),
                slevel=d.get("slevel", 20),
                statements=(int(stmts.group(1)), int(stmts.group(2))) if stmts else (0, 0),
                files=[os.path.relpath(f, root) for f in d["files"]] + [f"tests/prove/{name}.c"])


def why3_ready():
    conf = pathlib.Path(os.environ.get("WHY3CONFIG", pathlib.Path.home() / ".why3.conf"))
    have = conf.exists() and all(p in conf.read_text(encoding="utf-8", errors="replace") for p in ("Z3", "CVC4"))
    if not have:
        print("prove: why3 config detect (no prover configuration yet)")
        subprocess.run(["why3", "config", "detect"], check=True, stdout=subprocess.DEVNULL)


def builtin_register_errors(builtins_h, register_md):
    """Every builtin that builtins_h models (each #define but its include
    guard) SHALL be named, in backticks, in an SVD-PRF row of register_md
    whose ID the header carries too; the errors, one per model without one."""
    text = pathlib.Path(builtins_h).read_text(encoding="utf-8")
    reg = pathlib.Path(register_md).read_text(encoding="utf-8")
    rows = re.findall(r"^\| (SVD-PRF-\d{3}) \| ([^|]*) \|", reg, re.M)
    errors = []
    for name in re.findall(r"^#define (\w+)\(", text, re.M):
        ids = [i for i, what in rows if f"`{name}`" in what]
        if not ids:
            errors.append(f"{builtins_h}: model of {name} has no SVD-PRF row naming it in {register_md}")
        elif not any(i in text for i in ids):
            errors.append(f"{builtins_h}: model of {name}: its ID ({', '.join(ids)}) is not in the header")
    return errors


def main(argv):
    args = list(argv)
    bad_ids = builtin_register_errors(HERE / "fc_builtins.h", REPO / "docs" / "misra-deviations.md")
    for e in bad_ids:
        print(f"prove: {e}")
    if bad_ids:
        return 1
    only, root, page, narrow = [], REPO, None, {}
    for opt in ("--root", "--only", "--wp-fct", "--wp-prop"):
        if opt in args[-1:]:
            print(f"prove: {opt} needs a value", file=sys.stderr)
            return 2
    if "--root" in args:
        i = args.index("--root")
        root = pathlib.Path(args[i + 1]).resolve()
        del args[i:i + 2]
    for opt, key in (("--wp-fct", "fct"), ("--wp-prop", "props")):
        if opt in args:
            i = args.index(opt)
            narrow[key] = args[i + 1].split(",") if key == "fct" else args[i + 1]
            del args[i:i + 2]
    while "--only" in args:
        i = args.index("--only")
        only.append(args[i + 1])
        del args[i:i + 2]
    expect_fail = "--expect-fail" in args
    args = [a for a in args if a != "--expect-fail"]
    names = {u.__name__ for u in WP_UNITS + WP_UNITS_OPEN + WP_UNITS_GATE + EVA_DRIVERS + EVA_PENDING_DRIVERS}
    bad = [a for a in args if a.startswith("-")] + [n for n in only if n not in names]
    if narrow and not only:
        bad.append("--wp-fct/--wp-prop without --only")
    if bad or not 1 <= len(args) <= 2:
        print(f"prove: usage: prove.py OUTDIR [PAGE] [--only NAME ...] [--root DIR] [--expect-fail] "
              f"[--wp-fct F,...] [--wp-prop P,...]"
              f"{' (not an option or unit: ' + ', '.join(bad) + ')' if bad else ''}", file=sys.stderr)
        return 2
    out = pathlib.Path(args[0])
    page = pathlib.Path(args[1]) if len(args) > 1 and not expect_fail else None
    out.mkdir(parents=True, exist_ok=True)
    why3_ready()
    jobs = []
    for u in WP_UNITS + WP_UNITS_OPEN + WP_UNITS_GATE:
        if (not only and u in WP_UNITS) or u.__name__ in only:
            jobs.append((u.__name__, "wp", dict(u(root), **narrow)))
    for d in EVA_DRIVERS + [p for p in EVA_PENDING_DRIVERS if p.__name__ in only]:
        if not only or d.__name__ in only:
            jobs.append((d.__name__, "eva", d(root)))
    t0 = time.monotonic()
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as ex:
        futs = {ex.submit(run_wp if k == "wp" else run_eva, n, c, out, root): n for n, k, c in jobs}
        for f in concurrent.futures.as_completed(futs):
            r = f.result()
            results.append(r)
            if r["kind"] == "wp":
                print(f"prove: {r['name']:<16} WP  {r['proved']}/{r['total']} goals proved "
                      f"in {r['time']:.0f} s{'' if r['ok'] else '  FAILED (rc ' + str(r['rc']) + ')'}")
                for g in r["failed"]:
                    print(f"prove:   not proved: {g}")
            else:
                print(f"prove: {r['name']:<16} Eva {r['alarms']} alarms, {r['reached']} functions reached "
                      f"(of {r['defined']} defined), in {r['time']:.0f} s"
                      f"{'' if r['ok'] else '  FAILED (rc ' + str(r['rc']) + ')'}")
                for p in r["not_valid"]:
                    print(f"prove:   {p}")
    wall = time.monotonic() - t0
    results.sort(key=lambda r: (r["kind"], r["name"]))
    reached = set()
    for r in results:
        if r["kind"] == "eva":
            reached |= set(r["reached_public"])
    not_reached = sorted(fn for _, fn in public_functions(root) if fn not in reached)
    summary = dict(wall=wall, results=results, provers=PROVERS, wp_timeout=WP_TIMEOUT, wp_pending=WP_PENDING,
                   eva_not_reached=[(fn, EVA_NOT_REACHED_WHY.get(fn, "")) for fn in not_reached],
                   eva_public=len(public_functions(root)),
                   eva_pending=EVA_PENDING,
                   frama_c=subprocess.run(["frama-c", "-version"], capture_output=True, text=True).stdout.strip())
    (out / "results.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    wp = [r for r in results if r["kind"] == "wp"]
    ev = [r for r in results if r["kind"] == "eva"]
    ok = all(r["ok"] for r in results) and bool(results)
    if not only:
        print(f"prove: {len(not_reached)} public core functions no Eva driver reaches: {', '.join(not_reached) or 'none'}")
    print(f"prove: Eva {len(ev)} drivers, {sum(max(r['alarms'], 0) for r in ev)} alarms; "
          f"WP {sum(r['proved'] for r in wp)}/{sum(r['total'] for r in wp)} goals proved; "
          f"{wall:.0f} s wall on {JOBS} jobs: {'passed' if ok else 'FAILED'}")
    if page is not None:
        import prove_page
        prove_page.write(summary, page)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
