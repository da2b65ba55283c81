"""What goes into the start-up pack, on a hand-made environment: which recorded paths count, what is copied, what
is a real folder, where the links point. The packs of real builds are tested in test_startup_copy.py."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

from bootstrap.startup_copy import COPY_MAX_BYTES, PUBLISHED_LINK, touched_paths, write_pack

SITE = "lib/python3.11/site-packages"


def make_environment(root: Path) -> Path:
    env = root / "env"
    for rel, data in {
        f"{SITE}/pkg/__init__.py": b"",
        f"{SITE}/pkg/extra.py": b"",
        f"{SITE}/pkg/sub/x.py": b"",
        f"{SITE}/pkg/big.so": b"\0" * (COPY_MAX_BYTES + 1),
        f"{SITE}/other/a.py": b"",
        f"{SITE}/nvidia/cublas/lib/libcublas.so": b"\0" * (COPY_MAX_BYTES + 1),
        "pyvenv.cfg": b"home = /usr/bin\n",
        "bin/activate": b"",
    }.items():
        (env / rel).parent.mkdir(parents=True, exist_ok=True)
        (env / rel).write_bytes(data)
    (env / "lib64").symlink_to("lib")
    (env / "bin" / "python").symlink_to("/usr/bin/python3")
    return env


def test_recorded_paths_count_once_inside_the_environment_whatever_way_they_were_named(tmp_path):
    env = make_environment(tmp_path)
    recorded = [
        f"{env}/lib64/python3.11/site-packages/pkg/__init__.py",  # through the environment's own link
        f"{env}/{SITE}/pkg/sub",  # a folder
        f"{env}/{SITE}/pkg/missing.py",  # looked for, not there
        str(env),  # the root and what is above it are not inside
        str(tmp_path),
        "/usr/bin/python3",  # where bin/python leads: outside
        f"{env}/bin/python",
    ]
    output = "the smoke import's own output\n" + json.dumps(recorded)
    assert touched_paths(output, env) == {f"{SITE}/pkg/__init__.py", f"{SITE}/pkg/sub"}


def test_the_pack_copies_small_touched_files_keeps_touched_folders_real_and_links_the_rest(tmp_path):
    env = make_environment(tmp_path)
    touched = {
        f"{SITE}/pkg/__init__.py",
        f"{SITE}/pkg/big.so",
        f"{SITE}/pkg/sub",
        f"{SITE}/nvidia/cublas/lib/libcublas.so",
    }
    count, size = write_pack(env, touched, tmp_path / "pack.tar.gz")
    with tarfile.open(tmp_path / "pack.tar.gz") as archive:
        members = {member.name: member for member in archive.getmembers()}

    def kind(rel: str) -> str:
        member = members[rel]
        return "file" if member.isfile() else "dir" if member.isdir() else f"link {member.linkname}"

    assert kind(f"{SITE}/pkg/__init__.py") == "file" and kind("pyvenv.cfg") == "file"  # always copied
    assert (count, size) == (3, len(b"home = /usr/bin\n"))
    assert kind(f"{SITE}/pkg") == kind(f"{SITE}/pkg/sub") == "dir"
    assert kind(f"{SITE}/pkg/big.so") == f"link ../../../../{PUBLISHED_LINK}/{SITE}/pkg/big.so"  # too large
    assert kind(f"{SITE}/pkg/extra.py") == f"link ../../../../{PUBLISHED_LINK}/{SITE}/pkg/extra.py"
    assert kind(f"{SITE}/pkg/sub/x.py") == f"link ../../../../../{PUBLISHED_LINK}/{SITE}/pkg/sub/x.py"
    assert kind(f"{SITE}/other") == f"link ../../../{PUBLISHED_LINK}/{SITE}/other"  # untouched: one link
    assert f"{SITE}/other/a.py" not in members
    assert kind(f"{SITE}/nvidia/cublas/lib") == "dir"  # above a large touched library: real
    assert kind("lib64") == "link lib" and kind("bin/python") == "link /usr/bin/python3"  # the environment's own
    for member in members.values():  # every link of ours resolves inside the copy once PUBLISHED_LINK is set
        if member.issym() and PUBLISHED_LINK in member.linkname:
            resolved = os.path.normpath(os.path.join(os.path.dirname(member.name), member.linkname))
            assert resolved == f"{PUBLISHED_LINK}/{member.name}"
