"""tools/allocator.sh: the launch scripts preload jemalloc where the system has it."""
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'tools/allocator.sh'


def preload_after_sourcing(**env):
    """LD_PRELOAD (and stderr) after ``source tools/allocator.sh`` with ``env``."""
    base = {k: v for k, v in os.environ.items()
            if k not in ('LD_PRELOAD', 'CSUNET_ALLOCATOR', 'CSUNET_JEMALLOC')}
    proc = subprocess.run(['bash', '-c', f'set -u; source "{SCRIPT}"; echo "${{LD_PRELOAD:-}}"'],
                          env={**base, **env}, capture_output=True, text=True, check=True)
    return proc.stdout.strip(), proc.stderr


def test_given_library_is_preloaded_first(tmp_path):
    lib = tmp_path / 'libjemalloc.so.2'
    lib.write_bytes(b'')
    assert preload_after_sourcing(CSUNET_JEMALLOC=str(lib))[0] == str(lib)
    assert preload_after_sourcing(CSUNET_JEMALLOC=str(lib), LD_PRELOAD='/x/libfoo.so')[0] == \
        f'{lib}:/x/libfoo.so'


def test_opt_out_and_existing_allocators_are_respected(tmp_path):
    lib = tmp_path / 'libjemalloc.so.2'
    lib.write_bytes(b'')
    assert preload_after_sourcing(CSUNET_JEMALLOC=str(lib), CSUNET_ALLOCATOR='system')[0] == ''
    tcmalloc = '/usr/lib/libtcmalloc_minimal.so.4'
    assert preload_after_sourcing(CSUNET_JEMALLOC=str(lib), LD_PRELOAD=tcmalloc)[0] == tcmalloc


def test_missing_library_warns_and_changes_nothing(tmp_path):
    preload, err = preload_after_sourcing(CSUNET_JEMALLOC=str(tmp_path / 'missing.so'))
    assert preload == '' and 'missing.so is not a readable file' in err


def test_installed_jemalloc_runs_python():
    """Where ldconfig knows jemalloc, a Python started after sourcing runs on it."""
    preload, _ = preload_after_sourcing()
    if 'jemalloc' not in preload:
        pytest.skip('jemalloc is not installed here (apt-get install libjemalloc2)')
    maps = subprocess.run(['python3', '-c', 'print(open("/proc/self/maps").read())'],
                          env={**os.environ, 'LD_PRELOAD': preload}, capture_output=True,
                          text=True, check=True).stdout
    assert 'jemalloc' in maps
