"""``pemu-img``: create, inspect, check, convert and snapshot disk images.

Subcommands, options, output (human and ``--output=json``) and exit statuses
follow ``qemu-img``.  Any error is one line ``pemu-img: <reason>`` and exit
status 1 (``check`` uses 2 for corruptions, 3 for leaks, 63 for formats
without checks; ``compare`` uses 1 for a mismatch and 2 for errors).
The work itself lives in :mod:`pemu.block` and :mod:`pemu.block.imgtool`.
"""

from __future__ import annotations

import getopt
import os
import sys
from collections.abc import Callable

from pemu.block.errors import BlockError
from pemu.block.imgtool import qjson
from pemu.block.imgtool.units import parse_size
from pemu.block.locking import PROBE, LockPolicy
from pemu.block.open import FORMATS, create_image, open_image, resolve_backing

PROG = "pemu-img"


class Usage(Exception):
    """Bad command line: message, then exit status 1."""


def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr)


#: qemu-img options pemu-img parses but cannot honour: refused, never ignored.
UNSUPPORTED = {"--object", "--image-opts", "--target-image-opts", "--salvage", "--bitmaps",
               "--start-offset", "--max-length", "-r"}


def _getopt(args: list[str], short: str, long: list[str]) -> tuple[list, list[str]]:
    try:
        opts, rest = getopt.gnu_getopt(args, short, long)
    except getopt.GetoptError as e:
        opt = e.opt
        if "requires argument" in e.msg:
            raise Usage(f"option requires an argument -- '{opt}'") from None
        raise Usage(f"unrecognized option '{'--' if len(opt) > 1 else '-'}{opt}'") from None
    for k, _ in opts:
        # -r means another thing in check (repair)
        if k in UNSUPPORTED and not (k == "-r" and "repair=" in long):
            raise BlockError(f"option '{k}' is not supported by this build")
    return opts, rest


def _parse_o(text: str, into: dict[str, str]) -> None:
    for item in text.split(","):
        if not item:
            continue
        k, sep, v = item.partition("=")
        if not sep:
            v = "on"
        into[k.strip()] = v


def _share(opts: list, **kw: bool) -> LockPolicy:
    """The lock policy of a read-only open: ``-U``/``--force-share`` shares everything."""
    force = any(k in ("-U", "--force-share") for k, _ in opts)
    return LockPolicy(force_share=force, **kw)


def _output_format(v: str) -> str:
    if v not in ("human", "json"):
        raise BlockError("--output must be used with human or json as argument.")
    return v


# -- create ---------------------------------------------------------------------
def _fmt_create_line(filename: str, fmt: str, size: int, o: dict[str, str],
                     backing: str | None, bfmt: str | None) -> str:
    if fmt == "raw":
        parts = [f"size={size}"]
        if "preallocation" in o:
            parts.append(f"preallocation={o['preallocation']}")
    else:
        parts = [f"cluster_size={o.get('cluster_size', 65536)}", "extended_l2=off"]
        if "preallocation" in o:
            parts.append(f"preallocation={o['preallocation']}")
        parts += [f"compression_type={o.get('compression_type', 'zlib')}", f"size={size}"]
        if "compat" in o:
            parts.append(f"compat={o['compat']}")
        if backing:
            parts.append(f"backing_file={backing}")
            if bfmt:
                parts.append(f"backing_fmt={bfmt}")
        parts.append(f"lazy_refcounts={o.get('lazy_refcounts', 'off')}")
        parts.append(f"refcount_bits={o.get('refcount_bits', 16)}")
    return f"Formatting '{filename}', fmt={fmt} " + " ".join(parts)


def _normalise_opts(o: dict[str, str]) -> None:
    if "cluster_size" in o:
        o["cluster_size"] = str(parse_size(o["cluster_size"], "cluster size"))
    if "size" in o:
        o["size"] = str(parse_size(o["size"]))


def cmd_create(args: list[str]) -> int:
    opts, rest = _getopt(args, "qf:b:F:uo:", ["object="])
    fmt, backing, bfmt, quiet, o = "raw", None, None, False, {}
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "-b":
            backing = v
        elif k == "-F":
            bfmt = v
        elif k == "-q":
            quiet = True
        elif k == "-o":
            _parse_o(v, o)
    _normalise_opts(o)
    backing = o.pop("backing_file", backing)
    bfmt = o.pop("backing_fmt", bfmt)
    if not rest:
        raise Usage("Expecting image file name")
    filename = rest[0]
    size = None
    if len(rest) > 1:
        size = parse_size(rest[1])
    elif "size" in o:
        size = int(o["size"])
    if len(rest) > 2:
        raise Usage("Expecting one image file name")
    if fmt not in FORMATS:
        raise BlockError(f"Unknown file format '{fmt}'")
    if backing and not bfmt and fmt == "qcow2":
        try:
            with open_image(resolve_backing(filename, backing), backing=False,
                            lock=PROBE) as b:
                bfmt = b.format_name
        except BlockError:
            pass
    if size is not None:
        size = -(-size // 512) * 512
    try:
        real = size
        if real is None and backing:
            with open_image(resolve_backing(filename, backing), bfmt, backing=False,
                            lock=PROBE) as b:
                real = b.size
        if not quiet and real is not None:
            print(_fmt_create_line(filename, fmt, real, o, backing, bfmt))
        create_image(filename, fmt, size, o, backing, bfmt)
    except BlockError as e:
        raise BlockError(f"{filename}: {e}") from None
    return 0


# -- info -----------------------------------------------------------------------
def cmd_info(args: list[str]) -> int:
    from pemu.block.imgtool.info import human_info, image_info

    opts, rest = _getopt(args, "f:hU", ["output=", "backing-chain", "force-share",
                                         "image-opts", "object="])
    fmt, out, chain = None, "human", False
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "--output":
            out = _output_format(v)
        elif k == "--backing-chain":
            chain = True
    if len(rest) != 1:
        raise Usage("Expecting one image file name")
    # as qemu-img: each layer opened on its own, metadata only (no consistent-read lock)
    lock = _share(opts, no_io=True)
    infos = []
    name: str | None = rest[0]
    seen: set[str] = set()
    while name is not None:
        if os.path.realpath(name) in seen:
            raise BlockError(f"Backing file '{name}' creates an infinite loop.")
        seen.add(os.path.realpath(name))
        with open_image(name, fmt, readonly=True, backing=False, lock=lock) as node:
            infos.append(image_info(node))
            hdr = getattr(node, "hdr", None)
            nxt = hdr.backing_file if chain and hdr is not None else None
            fmt = hdr.backing_format if nxt else None
            name = resolve_backing(name, nxt) if nxt else None
    if out == "json":
        print(qjson.dumps(infos if chain else infos[0]))
    else:
        print("\n".join(human_info(i) for i in infos), end="")
    return 0


# -- check ----------------------------------------------------------------------
def _check_dict(filename: str, fmt: str, r) -> dict:
    d = {"filename": filename, "format": fmt, "check-errors": r.check_errors}
    for key, val in (("image-end-offset", r.image_end_offset), ("corruptions", r.corruptions),
                     ("leaks", r.leaks), ("corruptions-fixed", r.corruptions_fixed),
                     ("leaks-fixed", r.leaks_fixed), ("total-clusters", r.total_clusters),
                     ("allocated-clusters", r.allocated_clusters),
                     ("fragmented-clusters", r.fragmented_clusters),
                     ("compressed-clusters", r.compressed_clusters)):
        if val:
            d[key] = val
    return d


def _check_human(r, fixed: tuple[int, int] | None) -> str:
    out = []
    if fixed and (fixed[0] or fixed[1]):
        out.append("The following inconsistencies were found and repaired:\n\n"
                   f"    {fixed[1]} leaked clusters\n    {fixed[0]} corruptions\n\n"
                   "Double checking the fixed image now...")
    if not (r.corruptions or r.leaks or r.check_errors):
        out.append("No errors were found on the image.")
    else:
        if r.corruptions:
            out.append(f"\n{r.corruptions} errors were found on the image.\n"
                       "Data may be corrupted, or further writes to the image may corrupt it.")
        if r.leaks:
            out.append(f"\n{r.leaks} leaked clusters were found on the image.\n"
                       "This means waste of disk space, but no harm to data.")
        if r.check_errors:
            out.append(f"\n{r.check_errors} internal errors have occurred during the check.")
    if r.total_clusters and r.allocated_clusters:
        a, t = r.allocated_clusters, r.total_clusters
        out.append(f"{a}/{t} = {a * 100.0 / t:0.2f}% allocated, "
                   f"{r.fragmented_clusters * 100.0 / a:0.2f}% fragmented, "
                   f"{r.compressed_clusters * 100.0 / a:0.2f}% compressed clusters")
    if r.image_end_offset:
        out.append(f"Image end offset: {r.image_end_offset}")
    return "\n".join(out)


def cmd_check(args: list[str]) -> int:
    from pemu.block.qcow2_check import check_image

    opts, rest = _getopt(args, "f:hqr:T:U", ["output=", "repair=", "force-share",
                                              "image-opts", "object="])
    fmt, out, fix, quiet = None, "human", None, False
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "--output":
            out = _output_format(v)
        elif k in ("-r", "--repair"):
            if v not in ("leaks", "all"):
                raise Usage(f"Unknown option value for -r (expecting 'leaks' or 'all'): {v}")
            fix = v
        elif k == "-q":
            quiet = True
    if len(rest) != 1:
        raise Usage("Expecting one image file name")
    node = open_image(rest[0], fmt, readonly=fix is None, backing=False, check_mode=True,
                      lock=_share(opts))
    try:
        if node.format_name != "qcow2":
            _err("This image format does not support checks")
            return 63
        try:
            r = check_image(node, fix=fix, quiet=quiet)
            fixed = None
            if r.corruptions_fixed or r.leaks_fixed:
                fixed = (r.corruptions_fixed, r.leaks_fixed)
                r = check_image(node, fix=None, quiet=quiet)
                r.corruptions_fixed, r.leaks_fixed = fixed
        except BlockError as e:
            _err(f"Check failed: {e}")
            return 1
    finally:
        node.close()
    if out == "json":
        print(qjson.dumps(_check_dict(rest[0], node.format_name, r)))
    elif not quiet:
        print(_check_human(r, fixed))
    if r.check_errors:
        return 1
    if r.corruptions:
        return 2
    if r.leaks:
        return 3
    return 0


# -- convert --------------------------------------------------------------------
def cmd_convert(args: list[str]) -> int:
    from pemu.block.imgtool.convert import Progress, convert
    from pemu.block.qcow2 import Qcow2Node
    from pemu.block.qcow2_snapops import parse_snapshot_param, view_snapshot

    opts, rest = _getopt(args, "f:O:B:F:co:S:pqnt:T:l:r:m:WUC",
                         ["object=", "image-opts", "target-image-opts", "target-is-zero",
                          "bitmaps", "salvage", "force-share"])
    fmt, ofmt, backing, bfmt, comp, o = None, "raw", None, None, False, {}
    sparse, progress, quiet, no_create, target_zero = 4096, False, False, False, False
    cache = "unsafe"
    snapshot: tuple[str | None, str | None] | None = None
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "-l":
            snapshot = parse_snapshot_param(v)
        elif k == "-O":
            ofmt = v
        elif k == "-B":
            backing = v
        elif k == "-F":
            bfmt = v
        elif k == "-c":
            comp = True
        elif k == "-o":
            _parse_o(v, o)
        elif k == "-S":
            sparse = parse_size(v, "buffer size for sparse output")
        elif k == "-p":
            progress = True
        elif k == "-q":
            quiet = True
        elif k == "-n":
            no_create = True
        elif k == "--target-is-zero":
            target_zero = True
        elif k == "-t":
            cache = v
    _normalise_opts(o)
    if len(rest) < 2:
        raise Usage("Expecting image file name")
    if ofmt not in FORMATS:
        raise BlockError(f"Unknown file format '{ofmt}'")
    if comp and ofmt != "qcow2":
        raise BlockError("Compression not supported for this file format")
    if backing and no_create:
        raise BlockError("-B makes no sense when not creating the target")
    out_name = rest[-1]
    srcs = []
    try:
        if snapshot is not None and len(rest) != 2:
            raise BlockError("No support for concatenating multiple snapshot")
        for name in rest[:-1]:
            srcs.append(open_image(name, fmt, readonly=True, lock=_share(opts)))
        if snapshot is not None:
            if not isinstance(srcs[0], Qcow2Node):
                raise BlockError("Failed to load snapshot: Can't find snapshot")
            view_snapshot(srcs[0], *snapshot)
        total = sum(s.size for s in srcs)
        if not no_create:
            backing = o.pop("backing_file", backing)
            bfmt = o.pop("backing_fmt", bfmt)
            try:
                create_image(out_name, ofmt, -(-total // 512) * 512, o, backing, bfmt)
            except BlockError as e:
                raise BlockError(f"{out_name}: error while converting {ofmt}: {e}") from None
        dst = open_image(out_name, ofmt, readonly=False)
        try:
            bar = Progress(progress and not quiet, total)
            convert(srcs, dst, compressed=comp, sparse_size=sparse,
                    target_fresh=not no_create or target_zero, progress=bar.update)
            if cache not in ("unsafe",):  # qemu-img's default for convert is unsafe
                dst.flush()
            bar.finish()
        finally:
            dst.close()
    finally:
        for s in srcs:
            s.close()
    return 0


# -- snapshot -------------------------------------------------------------------
def cmd_snapshot(args: list[str]) -> int:
    from pemu.block import qcow2_snapops as so
    from pemu.block.imgtool.info import snapshot_header, snapshot_info, snapshot_line

    opts, rest = _getopt(args, "la:c:d:f:qU", ["object=", "image-opts", "force-share"])
    action, name, fmt = None, None, None
    for k, v in opts:
        if k in ("-l", "-a", "-c", "-d"):
            if action is not None:
                raise Usage("Cannot mix '-l', '-a', '-c', '-d'")
            action, name = k, v
        elif k == "-f":
            fmt = v
    if len(rest) != 1:
        raise Usage("Expecting one image file name")
    action = action or "-l"
    node = open_image(rest[0], fmt, readonly=action == "-l", backing=False,
                      lock=_share(opts))
    try:
        if node.format_name != "qcow2":
            raise BlockError(f"Could not {'list' if action == '-l' else 'create'} snapshot: "
                             "Operation not supported")
        if action == "-l":
            if node.snapshots:
                print("Snapshot list:")
                print(snapshot_header())
                for sn in node.snapshots:
                    print(snapshot_line(snapshot_info(sn)))
        elif action == "-c":
            so.create_snapshot(node, name, icount=0)
        elif action == "-a":
            if so.find_snapshot(node, name) is None:
                raise BlockError(f"Could not apply snapshot '{name}': Failed to load "
                                 "snapshot: No such file or directory")
            so.apply_snapshot(node, name)
        else:
            so.delete_snapshot(node, name)
    finally:
        node.close()
    return 0


# -- commit / rebase / resize ---------------------------------------------------
def cmd_commit(args: list[str]) -> int:
    from pemu.block.backend import writable_view
    from pemu.block.imgtool.ops import commit

    opts, rest = _getopt(args, "f:t:b:r:dpq", ["object=", "image-opts"])
    fmt, base_name, keep, quiet = None, None, False, False
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "-b":
            base_name, keep = v, True
        elif k == "-d":
            keep = True
        elif k == "-q":
            quiet = True
    if len(rest) != 1:
        raise Usage("Expecting one image file name")
    top = open_image(rest[0], fmt, readonly=False)
    try:
        if top.backing is None:
            raise BlockError("Image does not have a backing file")
        base = top.backing
        if base_name is not None:
            while base is not None and os.path.realpath(base.filename) != os.path.realpath(
                    base_name):
                base = base.backing
            if base is None:
                raise BlockError(f"'{base_name}' is not in the backing chain of '{rest[0]}'")
        with writable_view(base) as wbase:  # the chain's read lock on base becomes a writer's
            commit(top, base, wbase, empty_top=not keep)
    finally:
        top.close()
    if not quiet:
        print("Image committed.")
    return 0


def cmd_rebase(args: list[str]) -> int:
    from pemu.block.imgtool.ops import rebase_safe

    opts, rest = _getopt(args, "f:F:b:ut:T:pqU", ["object=", "image-opts", "force-share"])
    fmt, bfmt, new, unsafe = None, None, None, False
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "-F":
            bfmt = v
        elif k == "-b":
            new = v
        elif k == "-u":
            unsafe = True
    if len(rest) != 1:
        raise Usage("Expecting one image file name")
    if new is None:
        raise Usage("Must specify backing file (-b) or use unsafe mode (-u)")
    # -U shares the backing files (old and new), never the image being changed
    share = _share(opts)
    top = open_image(rest[0], fmt, readonly=False, backing=not unsafe and not share.force_share)
    if not unsafe and share.force_share and getattr(top, "backing_file", None):
        try:
            top.backing = open_image(resolve_backing(rest[0], top.backing_file),
                                     top.backing_format, lock=share.for_backing())
        except BlockError as e:
            top.close()
            raise BlockError(f"Could not open '{rest[0]}': Could not open backing file: "
                             f"{e}") from None
    try:
        if top.format_name != "qcow2":
            raise BlockError("Operation not supported")
        if not unsafe:
            newb = None
            if new:
                try:
                    newb = open_image(resolve_backing(rest[0], new), bfmt,
                                      lock=share.for_backing())
                except BlockError as e:
                    raise BlockError(f"Could not open new backing file '{new}': {e}") from None
            try:
                rebase_safe(top, top.backing, newb)
            finally:
                if newb is not None:
                    if bfmt is None:
                        bfmt = newb.format_name
                    newb.close()
        elif new and bfmt is None:
            try:
                with open_image(resolve_backing(rest[0], new), backing=False,
                                lock=PROBE) as nb:
                    bfmt = nb.format_name
            except BlockError:
                pass
        top.hdr.backing_file = new or None
        top.hdr.backing_format = bfmt if new else None
        top.rewrite_header()
    finally:
        top.close()
    return 0


def cmd_resize(args: list[str]) -> int:
    # a leading '-' in the size is not an option
    opts, rest = [], []
    it = iter(args)
    for a in it:
        if a in ("-f",):
            opts.append((a, next(it, "")))
        elif a in ("-q", "--shrink") or a.startswith("--preallocation") or a == "--image-opts":
            opts.append((a, ""))
        elif a.startswith("--object"):
            continue
        elif a.startswith("-") and not a[1:2].isdigit():
            raise Usage(f"unrecognized option '{a}'")
        else:
            rest.append(a)
    fmt = next((v for k, v in opts if k == "-f"), None)
    shrink = any(k == "--shrink" for k, _ in opts)
    quiet = any(k == "-q" for k, _ in opts)
    if len(rest) != 2:
        raise Usage("Expecting image file name and size")
    node = open_image(rest[0], fmt, readonly=False, backing=False,
                      lock=LockPolicy(resize=True))
    try:
        spec = rest[1]
        if spec[0] in "+-":
            delta = parse_size(spec[1:])
            size = node.size + delta if spec[0] == "+" else node.size - delta
        else:
            size = parse_size(spec)
        if size < 0:
            raise BlockError("New image size must be positive")
        if size < node.size and not shrink:
            _err("Use the --shrink option to perform a shrink operation.")
            _err("warning: Shrinking an image will delete all data beyond the shrunken "
                 "image's end. Before performing such an operation, make sure there is no "
                 "important data there.")
            return 1
        node.truncate(size, shrink=True)
    finally:
        node.close()
    if not quiet:
        print("Image resized.")
    return 0


# -- map / compare / measure / amend --------------------------------------------
def cmd_map(args: list[str]) -> int:
    from pemu.block.imgtool.ops import map_entries

    opts, rest = _getopt(args, "f:hU", ["output=", "object=", "image-opts", "start-offset=",
                                         "max-length=", "force-share"])
    fmt, out = None, "human"
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "--output":
            out = _output_format(v)
    if len(rest) != 1:
        raise Usage("Expecting one image file name")
    node = open_image(rest[0], fmt, lock=_share(opts))
    try:
        entries = map_entries(node)
    finally:
        node.close()
    if out == "json":
        lines = []
        for e in entries:
            f = ", ".join(f'"{k}": {qjson.dumps(v)}' for k, v in e.items()
                          if not k.startswith("_"))
            lines.append("{ " + f + "}")
        print("[" + ",\n".join(lines) + "]")
    else:
        print(f"{'Offset':<16}{'Length':<16}{'Mapped to':<16}File")
        for e in entries:
            if e["data"] and "offset" in e:
                print(f"{_hx(e['start']):<16}{_hx(e['length']):<16}{_hx(e['offset']):<16}"
                      f"{e['_file']}")
    return 0


def _hx(v: int) -> str:
    return "0" if v == 0 else f"{v:#x}"


def cmd_compare(args: list[str]) -> int:
    from pemu.block.imgtool.ops import compare

    try:
        opts, rest = _getopt(args, "f:F:T:pqsU", ["object=", "image-opts", "force-share"])
    except Usage as e:
        _err(str(e))
        return 2
    fmt1 = fmt2 = None
    strict = quiet = False
    for k, v in opts:
        if k == "-f":
            fmt1 = v
        elif k == "-F":
            fmt2 = v
        elif k == "-s":
            strict = True
        elif k == "-q":
            quiet = True
    if len(rest) != 2:
        _err("Expecting two image file names")
        return 2
    try:
        a = open_image(rest[0], fmt1, lock=_share(opts))
        try:
            b = open_image(rest[1], fmt2 or fmt1, lock=_share(opts))
            try:
                rc, msg = compare(a, b, strict)
            finally:
                b.close()
        finally:
            a.close()
    except BlockError as e:
        _err(str(e))
        return 2
    if not quiet:
        print(msg)
    return rc


def cmd_measure(args: list[str]) -> int:
    from pemu.block.imgtool.ops import measure

    opts, rest = _getopt(args, "f:O:o:l:U", ["output=", "size=", "object=", "image-opts",
                                             "force-share"])
    fmt, ofmt, out, size, o = None, "raw", "human", None, {}
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "-O":
            ofmt = v
        elif k == "-o":
            _parse_o(v, o)
        elif k == "--output":
            out = _output_format(v)
        elif k == "--size":
            size = parse_size(v)
    _normalise_opts(o)
    if ofmt not in FORMATS:
        raise BlockError(f"Unknown file format '{ofmt}'")
    if (size is None) == (not rest):
        raise Usage("Either --size N or one filename must be specified.")
    src = open_image(rest[0], fmt, lock=_share(opts)) if rest else None
    try:
        vsize = src.size if src is not None else size
        r = measure(vsize, ofmt, int(o.get("cluster_size", 65536)),
                    int(o.get("refcount_bits", 16)), src, o.get("preallocation", "off"))
    finally:
        if src is not None:
            src.close()
    if src is not None and ofmt == "qcow2":
        r["bitmaps"] = 0
    if out == "json":
        print(qjson.dumps(r))
    else:
        print(f"required size: {r['required']}")
        print(f"fully allocated size: {r['fully-allocated']}")
        if "bitmaps" in r:
            print(f"bitmaps size: {r['bitmaps']}")
    return 0


def cmd_amend(args: list[str]) -> int:
    from pemu.block.qcow2_amend import amend

    opts, rest = _getopt(args, "f:o:t:pq", ["object=", "image-opts", "force"])
    fmt, o = None, {}
    for k, v in opts:
        if k == "-f":
            fmt = v
        elif k == "-o":
            _parse_o(v, o)
    _normalise_opts(o)
    if not o:
        raise Usage("Must specify options (-o)")
    if len(rest) != 1:
        raise Usage("Expecting one image file name")
    node = open_image(rest[0], fmt, readonly=False, backing=False)
    try:
        if node.format_name != "qcow2":
            raise BlockError(f"Format driver '{node.format_name}' does not support option "
                             "amendment")
        amend(node, o)
    finally:
        node.close()
    return 0


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "create": cmd_create, "info": cmd_info, "check": cmd_check, "convert": cmd_convert,
    "snapshot": cmd_snapshot, "commit": cmd_commit, "rebase": cmd_rebase,
    "resize": cmd_resize, "map": cmd_map, "compare": cmd_compare, "measure": cmd_measure,
    "amend": cmd_amend,
}


def _help() -> str:
    return (f"{PROG} version 0.1.0 (pemu)\nusage: {PROG} [standard options] command "
            "[command options]\n\nCommand syntax:\n  " + "\n  ".join(sorted(COMMANDS)) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        _err("Not enough arguments")
        print(f"Try '{PROG} --help' for more information", file=sys.stderr)
        return 1
    if argv[0] in ("-h", "--help", "help"):
        print(_help(), end="")
        return 0
    if argv[0] in ("-V", "--version"):
        print(f"{PROG} version 0.1.0 (pemu)")
        return 0
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        _err(f"Command not found: {argv[0]}")
        print(f"Try '{PROG} --help' for more information", file=sys.stderr)
        return 1
    try:
        rc = cmd(argv[1:])
    except Usage as e:
        _err(str(e))
        print(f"Try '{PROG} --help' for more information", file=sys.stderr)
        return 1
    except BlockError as e:
        _err(str(e))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # never a traceback for the user
        if os.environ.get("PEMU_DEBUG"):
            raise
        _err(f"internal error: {type(e).__name__}: {e}")
        return 1
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
