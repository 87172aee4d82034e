"""The KVM accelerator: guest code runs natively through /dev/kvm.

Layers, bottom up: `ioctls` (numbers and C structures of the KVM API),
`system` (the /dev/kvm handle and host capabilities), `vm` (one VM: memory
slots, in-kernel irqchip and PIT, interrupt lines), `vcpu` (one vCPU: its
kvm_run page, registers, CPUID, MSRs), `cpus` (one host thread per vCPU, the
exit dispatch to device models, kicks for pause/reset/monitor).
"""
from pemu.accel.kvm.system import KvmError, KvmSystem

__all__ = ["KvmError", "KvmSystem"]
