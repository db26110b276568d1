import os
import stat

import pytest

from fedstake.files import write_atomically


def test_a_write_replaces_the_file_whole_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "deep" / "table.json"
    write_atomically(target, "old")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(target.parent) == ["table.json"]


@pytest.mark.parametrize("umask, public", [(0o027, 0o640), (0o002, 0o664), (0o077, 0o600)])
def test_a_file_follows_the_umask_and_a_secret_keeps_its_mode(tmp_path, umask, public):
    previous = os.umask(umask)
    try:
        write_atomically(tmp_path / "public", "x")
        write_atomically(tmp_path / "secret", "x", mode=0o600)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "public").stat().st_mode) == public
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_without_replace_an_existing_file_is_kept_and_the_write_fails(tmp_path):
    target = tmp_path / "key.json"
    write_atomically(target, "first", replace=False)
    with pytest.raises(FileExistsError):
        write_atomically(target, "second", replace=False)
    assert target.read_text() == "first"
    assert os.listdir(tmp_path) == ["key.json"]
