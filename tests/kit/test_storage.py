"""The local file storage: atomic writes with private modes, and keys that cannot leave the root."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from clinicore.kit import storage as storage_module
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.storage import LocalFileStorage, build_storage


async def test_a_file_put_can_be_read_back_and_replaced(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    await storage.put("clinic-1/attachments/abc.pdf", b"%PDF-1.4 first")
    assert await storage.get("clinic-1/attachments/abc.pdf") == b"%PDF-1.4 first"
    await storage.put("clinic-1/attachments/abc.pdf", b"second")
    assert await storage.get("clinic-1/attachments/abc.pdf") == b"second"


async def test_files_are_private_to_the_process_user(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    await storage.put("clinic-1/attachments/id.png", b"bytes")
    path = tmp_path / "files" / "clinic-1" / "attachments" / "id.png"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_a_write_lands_whole_through_a_rename_in_the_same_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    renames: list[tuple[Path, Path, bytes]] = []
    real_replace = os.replace

    def recording_replace(source: str, target: Path) -> None:
        renames.append((Path(source), Path(target), Path(source).read_bytes()))
        real_replace(source, target)

    monkeypatch.setattr(storage_module.os, "replace", recording_replace)
    await storage.put("c/a.jpg", b"x" * 100_000)
    [(source, target, content_before_rename)] = renames
    assert source.parent == target.parent == tmp_path / "files" / "c"
    assert source != target and not source.exists()
    assert content_before_rename == b"x" * 100_000


async def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    await storage.put("c/a.jpg", b"old")

    def failing_replace(source: str, target: Path) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(storage_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk gone"):
        await storage.put("c/a.jpg", b"new")
    monkeypatch.undo()
    assert await storage.get("c/a.jpg") == b"old"
    assert sorted(path.name for path in (tmp_path / "files" / "c").iterdir()) == ["a.jpg"]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../outside",
        "a/../../outside",
        "/etc/passwd",
        "a//b",
        ".",
        "a/./b",
        "a\\..\\b",
        "a/b c",
        "x" * 301,
    ],
)
async def test_keys_that_could_escape_the_root_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    with pytest.raises(InvalidInput):
        await storage.put(key, b"data")
    with pytest.raises(InvalidInput):
        await storage.get(key)
    assert not (tmp_path / "outside").exists()


async def test_a_symlink_inside_the_root_cannot_lead_outside(tmp_path: Path) -> None:
    root = tmp_path / "files"
    root.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    storage = LocalFileStorage(root)
    with pytest.raises(InvalidInput, match="outside the storage root"):
        await storage.put("link/stolen.txt", b"data")
    assert list(outside.iterdir()) == []


async def test_reading_a_missing_file_is_not_found_and_deleting_it_is_harmless(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    with pytest.raises(NotFound):
        await storage.get("c/missing.pdf")
    await storage.delete("c/missing.pdf")
    await storage.put("c/here.pdf", b"data")
    await storage.delete("c/here.pdf")
    with pytest.raises(NotFound):
        await storage.get("c/here.pdf")


async def test_the_storage_of_a_data_dir_keeps_files_under_files(tmp_path: Path) -> None:
    storage = build_storage(tmp_path)
    await storage.put("c/a.pdf", b"data")
    assert (tmp_path / "files" / "c" / "a.pdf").read_bytes() == b"data"
