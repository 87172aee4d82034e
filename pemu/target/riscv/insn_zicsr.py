"""Zicsr: CSR access instructions (ISA manual vol. I, "Zicsr").

Each ends its block: a CSR write can change privilege state, interrupt
enables or address translation, which the next block must see. Whether the
CSR is read or written follows the manual (csrrw with rd=x0 does not read;
csrrs/csrrc with rs1=x0 do not write)."""
from __future__ import annotations

from pemu.target.riscv.translate import method

TABLE = """
csrrw   CSR  ------------ ----- 001 ----- 1110011
csrrs   CSR  ------------ ----- 010 ----- 1110011
csrrc   CSR  ------------ ----- 011 ----- 1110011
csrrwi  CSR  ------------ ----- 101 ----- 1110011
csrrsi  CSR  ------------ ----- 110 ----- 1110011
csrrci  CSR  ------------ ----- 111 ----- 1110011
"""


_CSR_OP = method("csr_op")


def _csr(op: int, imm: bool):
    def trans(c, a):
        src = a.rs1 if imm else c.x(a.rs1)
        read = op != 0 or a.rd != 0
        write = op == 0 or a.rs1 != 0
        c.call(_CSR_OP, c.xd(a.rd), a.csr, op, src, int(read), int(write), c.word)
        c.end(c.next_pc)
    return trans


trans_csrrw, trans_csrrs, trans_csrrc = _csr(0, False), _csr(1, False), _csr(2, False)
trans_csrrwi, trans_csrrsi, trans_csrrci = _csr(0, True), _csr(1, True), _csr(2, True)
