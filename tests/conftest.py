"""Test-session settings shared by every test directory."""
import os
import shutil
import tempfile

# Tests get their own compiled-code cache (pemu/accel/tcg/code_cache.py), shared
# by every emulator process of this session: boots of the same guest reuse it,
# and random test programs never pollute or depend on the user's cache.
_OWN_CACHE = None
if "PEMU_TB_CACHE" not in os.environ:
    _OWN_CACHE = os.environ["PEMU_TB_CACHE"] = tempfile.mkdtemp(prefix="pemu-test-tb-")


def pytest_sessionfinish(session, exitstatus):
    if _OWN_CACHE:
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)
