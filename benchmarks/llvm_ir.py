"""IR -> LLVM IR, compiled by llvmlite: the other native-backend candidate, measured only
(used by benchmarks/native_backend.py --llvmlite; llvmlite is not a pemu dependency).

A block becomes `i64 @b(ptr %env)` with the same contract as the x86-64 emitter's
blocks: globals copied into allocas at entry (promoted to SSA registers by the
optimiser) and written back at exits; the inline TLB with a miss path that
leaves with STATUS_PYTHON; at an exit, ICOUNT += n and, when ICOUNT < LIMIT,
EXIT_REQ == 0 and the jump cache holds the pc, a `musttail` call to the next
block (the LLVM way to jump), else STATUS_CHAIN and return the pc. Blocks
with a helper call are not translated (the x86-64 backend cuts them).
"""
from __future__ import annotations

import time

from pemu.tcg.env import JC_MASK, TLB_MASK, EnvLayout
from pemu.tcg.ir import Block, Const, Global, Temp

BIN = {"add": "add", "sub": "sub", "mul": "mul", "and": "and", "or": "or", "xor": "xor",
       "shl": "shl", "shr": "lshr", "sar": "ashr", "divs": "sdiv", "divu": "udiv",
       "rems": "srem", "remu": "urem"}
ICMP = {"eq": "eq", "ne": "ne", "lt": "slt", "ge": "sge", "le": "sle", "gt": "sgt",
        "ltu": "ult", "geu": "uge", "leu": "ule", "gtu": "ugt"}
INTRINSICS = """
declare i64 @llvm.ctlz.i64(i64, i1)
declare i64 @llvm.cttz.i64(i64, i1)
declare i64 @llvm.ctpop.i64(i64)
declare i64 @llvm.bswap.i64(i64)
declare i16 @llvm.bswap.i16(i16)
declare i32 @llvm.bswap.i32(i32)
declare i64 @llvm.fshl.i64(i64, i64, i64)
declare i64 @llvm.fshr.i64(i64, i64, i64)
"""


class _Fn:
    def __init__(self, layout: EnvLayout, block: Block, name: str) -> None:
        self.lay, self.block, self.name = layout, block, name
        self.lines: list[str] = []
        self.n = 0
        self.temps: dict[Temp, str] = {}
        self.globals = sorted({v for op in block.ops for v in (*op.args, op.out)
                               if isinstance(v, Global)}, key=lambda g: (g.space, g.index))

    def tmp(self) -> str:
        self.n += 1
        return f"%v{self.n}"

    def emit(self, s: str) -> None:
        self.lines.append("  " + s)

    def field(self, off: int) -> str:
        p = self.tmp()
        self.emit(f"{p} = getelementptr i8, ptr %env, i64 {off}")
        return p

    def gslot(self, g: Global) -> str:
        return f"%g_{g.space}{g.index}"

    def get(self, v) -> str:
        if isinstance(v, Const):
            return str(v.value - (1 << 64) if v.value >= 1 << 63 else v.value)
        if isinstance(v, Temp):
            return self.temps[v]
        r = self.tmp()
        self.emit(f"{r} = load i64, ptr {self.gslot(v)}")
        return r

    def put(self, d, value: str) -> None:
        if isinstance(d, Temp):
            self.temps[d] = value
        elif isinstance(d, Global):
            self.emit(f"store i64 {value}, ptr {self.gslot(d)}")

    def writeback(self) -> None:
        for g in self.globals:
            v = self.tmp()
            self.emit(f"{v} = load i64, ptr {self.gslot(g)}")
            p = self.field(self.lay.global_offset(g.space, g.index))
            self.emit(f"store i64 {v}, ptr {p}")

    def add_icount(self, n: int) -> str:
        p = self.field(self.lay.ICOUNT)
        old, new = self.tmp(), self.tmp()
        self.emit(f"{old} = load i64, ptr {p}")
        self.emit(f"{new} = add i64 {old}, {n}")
        self.emit(f"store i64 {new}, ptr {p}")
        return new

    def leave(self, status: int, pc: str) -> None:
        p = self.field(self.lay.STATUS)
        self.emit(f"store i64 {status}, ptr {p}")
        self.emit(f"ret i64 {pc}")

    def label(self, name: str) -> None:
        self.lines.append(f"{name}:")

    def pure(self, op) -> str:
        name, a = op.name, [self.get(x) for x in op.args]
        r = self.tmp()
        if name in BIN:
            self.emit(f"{r} = {BIN[name]} i64 {a[0]}, {a[1]}")
        elif name == "mov":
            self.emit(f"{r} = add i64 {a[0]}, 0")
        elif name in ("andc", "orc", "eqv", "not", "neg"):
            x = self.tmp()
            if name == "neg":
                self.emit(f"{r} = sub i64 0, {a[0]}")
                return r
            self.emit(f"{x} = xor i64 {a[-1]}, -1")
            op2 = {"andc": "and", "orc": "or", "eqv": "xor"}.get(name)
            self.emit(f"{r} = {op2} i64 {a[0]}, {x}" if op2 else f"{r} = add i64 {x}, 0")
        elif name in ("mulsh", "muluh", "mulsuh"):
            ea, eb = ("sext", "sext") if name == "mulsh" else ("zext", "zext") \
                if name == "muluh" else ("sext", "zext")
            x, y, p, h = self.tmp(), self.tmp(), self.tmp(), self.tmp()
            self.emit(f"{x} = {ea} i64 {a[0]} to i128")
            self.emit(f"{y} = {eb} i64 {a[1]} to i128")
            self.emit(f"{p} = mul i128 {x}, {y}")
            self.emit(f"{h} = lshr i128 {p}, 64")
            self.emit(f"{r} = trunc i128 {h} to i64")
        elif name in ("rotl", "rotr"):
            self.emit(f"{r} = call i64 @llvm.fsh{name[3]}.i64(i64 {a[0]}, i64 {a[0]}, "
                      f"i64 {a[1]})")
        elif name.startswith("ext"):
            bits, sign = int(name[3:-1]), name[-1] == "s"
            t = self.tmp()
            self.emit(f"{t} = trunc i64 {a[0]} to i{bits}")
            self.emit(f"{r} = {'sext' if sign else 'zext'} i{bits} {t} to i64")
        elif name in ("clz", "ctz"):
            fn = "ctlz" if name == "clz" else "cttz"
            self.emit(f"{r} = call i64 @llvm.{fn}.i64(i64 {a[0]}, i1 false)")
        elif name == "ctpop":
            self.emit(f"{r} = call i64 @llvm.ctpop.i64(i64 {a[0]})")
        elif name == "bswap64":
            self.emit(f"{r} = call i64 @llvm.bswap.i64(i64 {a[0]})")
        elif name in ("setcond", "movcond"):
            c = self.tmp()
            self.emit(f"{c} = icmp {ICMP[op.aux]} i64 {a[0]}, {a[1]}")
            if name == "setcond":
                self.emit(f"{r} = zext i1 {c} to i64")
            else:
                self.emit(f"{r} = select i1 {c}, i64 {a[2]}, i64 {a[3]}")
        else:
            raise NotImplementedError(name)
        return r

    def memory(self, op, insn: int, pc: int) -> None:
        mo = op.aux
        store = op.name == "st"
        addr = self.get(op.args[1] if store else op.args[0])
        table = self.lay.TLB_W if store else self.lay.TLB_R
        vpn, idx, off = self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{vpn} = lshr i64 {addr}, 12")
        self.emit(f"{idx} = and i64 {vpn}, {TLB_MASK}")
        self.emit(f"{off} = shl i64 {idx}, 4")
        ent, tag, hit1, low, hit2, hit = (self.tmp() for _ in range(6))
        self.emit(f"{ent} = getelementptr i8, ptr %env, i64 {table}")
        e2 = self.tmp()
        self.emit(f"{e2} = getelementptr i8, ptr {ent}, i64 {off}")
        self.emit(f"{tag} = load i64, ptr {e2}")
        self.emit(f"{hit1} = icmp eq i64 {tag}, {vpn}")
        self.emit(f"{low} = and i64 {addr}, 4095")
        self.emit(f"{hit2} = icmp ule i64 {low}, {4096 - mo.size}")
        self.emit(f"{hit} = and i1 {hit1}, {hit2}")
        ok, miss = f"ok{self.n}", f"miss{self.n}"
        self.emit(f"br i1 {hit}, label %{ok}, label %{miss}")
        self.label(miss)
        self.writeback()
        if insn:
            self.add_icount(insn)
        self.leave(1, str(pc - (1 << 64) if pc >= 1 << 63 else pc))
        self.label(ok)
        pa, adp, host, hp = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{pa} = getelementptr i8, ptr {e2}, i64 8")
        self.emit(f"{adp} = load i64, ptr {pa}")
        self.emit(f"{host} = add i64 {addr}, {adp}")
        self.emit(f"{hp} = inttoptr i64 {host} to ptr")
        ty = f"i{8 * mo.size}"
        if store:
            v, t = self.get(op.args[0]), self.tmp()
            self.emit(f"{t} = trunc i64 {v} to {ty}" if mo.size < 8 else f"{t} = add i64 {v}, 0")
            if mo.big_endian and mo.size > 1:
                s = self.tmp()
                self.emit(f"{s} = call {ty} @llvm.bswap.{ty}({ty} {t})")
                t = s
            self.emit(f"store {ty} {t}, ptr {hp}, align 1")
            return
        raw = self.tmp()
        self.emit(f"{raw} = load {ty}, ptr {hp}, align 1")
        if mo.big_endian and mo.size > 1:
            s = self.tmp()
            self.emit(f"{s} = call {ty} @llvm.bswap.{ty}({ty} {raw})")
            raw = s
        r = self.tmp()
        if mo.size == 8:
            self.emit(f"{r} = add i64 {raw}, 0")
        else:
            self.emit(f"{r} = {'sext' if mo.signed else 'zext'} {ty} {raw} to i64")
        self.put(op.out, r)

    def exit(self, target, insn: int) -> None:
        self.writeback()
        ic = self.add_icount(insn + 1)
        pc = self.get(target)
        lim, req, c1, c2, ok = (self.tmp() for _ in range(5))
        self.emit(f"{lim} = load i64, ptr {self.field(self.lay.LIMIT)}")
        self.emit(f"{req} = load i64, ptr {self.field(self.lay.EXIT_REQ)}")
        self.emit(f"{c1} = icmp ult i64 {ic}, {lim}")
        self.emit(f"{c2} = icmp eq i64 {req}, 0")
        self.emit(f"{ok} = and i1 {c1}, {c2}")
        sh, ix, off, slot, jpc, same, go = (self.tmp() for _ in range(7))
        self.emit(f"{sh} = lshr i64 {pc}, 1")
        self.emit(f"{ix} = and i64 {sh}, {JC_MASK}")
        self.emit(f"{off} = shl i64 {ix}, 4")
        jc = self.field(self.lay.JC)
        self.emit(f"{slot} = getelementptr i8, ptr {jc}, i64 {off}")
        self.emit(f"{jpc} = load i64, ptr {slot}")
        self.emit(f"{same} = icmp eq i64 {jpc}, {pc}")
        self.emit(f"{go} = and i1 {ok}, {same}")
        chain, out = f"chain{self.n}", f"out{self.n}"
        self.emit(f"br i1 {go}, label %{chain}, label %{out}")
        self.label(chain)
        hp, host, fp, r = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{hp} = getelementptr i8, ptr {slot}, i64 8")
        self.emit(f"{host} = load i64, ptr {hp}")
        self.emit(f"{fp} = inttoptr i64 {host} to ptr")
        self.emit(f"{r} = musttail call i64 {fp}(ptr %env)")
        self.emit(f"ret i64 {r}")
        self.label(out)
        self.leave(0, pc)

    def build(self) -> str | None:
        if any(op.name == "call" for op in self.block.ops):
            return None
        self.lines.append(f"define i64 @{self.name}(ptr %env) {{")
        self.label("entry")
        for g in self.globals:
            self.emit(f"{self.gslot(g)} = alloca i64")
            p = self.field(self.lay.global_offset(g.space, g.index))
            v = self.tmp()
            self.emit(f"{v} = load i64, ptr {p}")
            self.emit(f"store i64 {v}, ptr {self.gslot(g)}")
        insn, pc, dead = -1, self.block.pc, False
        for op in self.block.ops:
            name = op.name
            if name == "set_label":
                if not dead:
                    self.emit(f"br label %L{op.label.id}")
                self.label(f"L{op.label.id}")
                dead = False
                continue
            if dead:
                continue
            if name == "insn_start":
                insn, pc = insn + 1, op.aux
            elif name == "exit":
                self.exit(op.args[0], insn)
                dead = True
            elif name == "br":
                self.emit(f"br label %L{op.label.id}")
                dead = True
            elif name == "brcond":
                a, b = self.get(op.args[0]), self.get(op.args[1])
                c, nxt = self.tmp(), f"f{self.n}"
                self.emit(f"{c} = icmp {ICMP[op.aux]} i64 {a}, {b}")
                self.emit(f"br i1 {c}, label %L{op.label.id}, label %{nxt}")
                self.label(nxt)
            elif name in ("ld", "st"):
                self.memory(op, max(insn, 0), pc)
            else:
                self.put(op.out, self.pure(op))
        self.lines.append("}")
        return "\n".join(self.lines)


def bench(layout: EnvLayout, env, loop: Block, blocks: list[Block], iters: int,
          native_chained: float, native_compile: float, reset, x) -> None:
    import ctypes

    t = time.perf_counter()
    import llvmlite.binding as llvm
    try:
        llvm.initialize()
    except RuntimeError:
        pass  # llvmlite >= 0.45 initialises itself
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    imported = time.perf_counter() - t
    target = llvm.Target.from_default_triple().create_target_machine(opt=2)

    def jit(sources: list[str]):
        mod = llvm.parse_assembly(INTRINSICS + "\n".join(sources))
        mod.verify()
        pto = llvm.create_pipeline_tuning_options(speed_level=2)
        pb = llvm.create_pass_builder(target, pto)
        pb.getModulePassManager().run(mod, pb)
        engine = llvm.create_mcjit_compiler(mod, target)
        engine.finalize_object()
        return engine

    # one block per module (what a block-at-a-time JIT does) and one module of all blocks
    srcs = [s for i, b in enumerate(blocks) if (s := _Fn(layout, b, f"b{i}").build())]
    k = min(len(srcs), 40)
    t = time.perf_counter()
    engines = [jit([s]) for s in srcs[:k]]
    single = (time.perf_counter() - t) / k
    t = time.perf_counter()
    engines.append(jit(srcs))
    batched = (time.perf_counter() - t) / len(srcs)
    eng = jit([_Fn(layout, loop, "loop").build()])
    engines.append(eng)
    addr = eng.get_function_address("loop")
    env.jc_set(loop.pc, addr)
    fn = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)(addr)
    reset(iters)
    env.limit = 1 << 62
    t = time.perf_counter()
    fn(env.addr)
    run = (time.perf_counter() - t) / env.icount
    print(f"llvmlite {llvm.__name__.split('.')[0]}: import + init {imported * 1e3:.0f} ms")
    print(f"  compile one block per module {single * 1e6:9.0f} µs/block "
          f"({single / native_compile:5.0f}x the x86-64 emitter)")
    print(f"  compile {len(srcs)} blocks in one module {batched * 1e6:6.0f} µs/block "
          f"({batched / native_compile:5.1f}x)")
    print(f"  hot loop chained by musttail {run * 1e9:7.2f} ns/insn "
          f"(x86-64 emitter {native_chained * 1e9:.2f})  result {x[10]:#x}")
