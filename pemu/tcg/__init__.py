"""The translator's intermediate form and its backends, shared by every guest ISA
(ir.py: ops; optimize.py: passes; python_backend.py: IR -> Python source)."""
