"""csunet.fileio: atomic file / folder output and checkpoint I/O."""
import os
import stat

import pytest
import torch

from csunet.fileio import (AtomicDirectory, ConversionError, atomic_write, load_checkpoint_file,
                           save_checkpoint_atomic, write_bytes_atomic, write_text_atomic)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_write_bytes_and_text_create_parents_with_usual_mode(tmp_path, umask022):
    target = tmp_path / 'a' / 'b' / 'f.bin'
    write_bytes_atomic(target, b'\x00\x01')
    assert target.read_bytes() == b'\x00\x01'
    assert _mode(target) == 0o644  # not mkstemp's 0600
    text = tmp_path / 'c.txt'
    write_text_atomic(str(text), 'ä\nb\n')
    assert text.read_bytes() == 'ä\nb\n'.encode('utf-8')
    write_text_atomic(text, 'new\n')  # replaces
    assert text.read_text() == 'new\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a', 'c.txt']


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / 'f.txt'
    target.write_text('old')

    def half(f):
        f.write(b'partial')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half)
    assert target.read_text() == 'old'

    def boom(*args):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(OSError, match='disk full'):
        write_bytes_atomic(target, b'new')
    monkeypatch.undo()
    assert target.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['f.txt']


def test_verify_sees_the_written_temporary_and_can_veto(tmp_path):
    target = tmp_path / 'f.bin'
    seen = []
    atomic_write(target, lambda f: f.write(b'one'), verify=lambda p: seen.append(
        (os.path.dirname(p), open(p, 'rb').read())))
    assert seen == [(str(tmp_path), b'one')] and target.read_bytes() == b'one'

    def veto(_):
        raise ValueError('bad')

    with pytest.raises(ValueError, match='bad'):
        atomic_write(target, lambda f: f.write(b'two'), verify=veto)
    assert target.read_bytes() == b'one'
    assert [p.name for p in tmp_path.iterdir()] == ['f.bin']


def test_atomic_directory_commit_replaces_whole_folder(tmp_path, umask022):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'stale.txt').write_text('x')
    with AtomicDirectory(out) as staged:
        assert os.path.dirname(staged.tmp) == str(tmp_path) and staged.tmp != str(out)
        (tmp_path / 'marker').write_text('')  # the temporary folder sits beside OUT
        with open(os.path.join(staged.tmp, 'new.txt'), 'w') as f:
            f.write('y')
        assert (out / 'stale.txt').exists()  # untouched until commit
        staged.commit()
    assert sorted(p.name for p in out.iterdir()) == ['new.txt']
    assert _mode(out) == 0o755  # not mkdtemp's 0700
    assert sorted(p.name for p in tmp_path.iterdir()) == ['marker', 'out']


def test_atomic_directory_without_commit_leaves_nothing(tmp_path):
    out = tmp_path / 'out'
    with pytest.raises(RuntimeError):
        with AtomicDirectory(out) as staged:
            open(os.path.join(staged.tmp, 'f'), 'w').close()
            raise RuntimeError
    with AtomicDirectory(out):
        pass  # an early return without commit
    assert list(tmp_path.iterdir()) == []


def test_load_checkpoint_file_errors(tmp_path):
    with pytest.raises(ConversionError, match='nope.pth: no such file'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ConversionError, match='bad.pth: cannot read'):
        load_checkpoint_file(str(bad))


def test_save_checkpoint_round_trip_and_keeps_old_file_on_failure(tmp_path):
    out = tmp_path / 'out.pth'
    save_checkpoint_atomic({'a': torch.ones(1)}, str(out))
    assert torch.equal(load_checkpoint_file(str(out))['a'], torch.ones(1))

    def fail(_):
        raise RuntimeError('verification failed')

    with pytest.raises(RuntimeError):
        save_checkpoint_atomic({'a': torch.zeros(1)}, str(out), verify=fail)
    assert torch.load(out)['a'].item() == 1.
    assert [p.name for p in tmp_path.iterdir()] == ['out.pth']


def test_conversion_error_is_shared_by_the_converters():
    from csunet.models.utils import cnn_convert, swin_convert
    assert cnn_convert.ConversionError is ConversionError
    assert swin_convert.ConversionError is ConversionError
