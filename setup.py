"""Build hook: the hot modules compiled with mypyc, for a regular (non-editable) install.

The modules listed under ``[tool.dmsniff.mypyc] modules`` in pyproject.toml are plain, mypy-strict
Python; mypyc turns each into a C extension that runs the same code 1.5-2x faster (issue 18).
The pure-Python source stays the reference: it is what an editable install (the test command),
a build with ``DMSNIFF_COMPILE=0`` or a machine without a C compiler runs, and
``tests/test_compiled.py`` checks that the compiled build reports every capture byte for byte
as the pure one does.

Why not compile editable installs: an extension module next to its source shadows the ``.py``
file, so an edited source would silently keep running the old compiled code.
"""

from __future__ import annotations

import os
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
# Commands that build the wheel's contents; metadata steps (egg_info, dist_info) and editable
# builds never compile.
_BUILD_COMMANDS = {"bdist_wheel", "build", "build_ext", "install"}
# mypy checks the modules again while compiling.  In pip's isolated build environment the runtime
# dependencies and their stubs are absent: they are read as Any, so the check is lenient here and
# pyproject's strict settings (which CI enforces on the source) are not reused.  lxml is read as Any
# even where its stubs are installed: compiled code checks every annotated type at run time, and
# the stubs say an element's tag is a str (a comment's or an entity's is a function).
_MYPY_CONFIG = """\
[mypy]
ignore_missing_imports = True
follow_imports = silent
follow_imports_for_stubs = True

[mypy-lxml.*]
follow_imports = skip
"""


def compiled_modules() -> list[str]:
    """The source files to compile, as pyproject.toml lists them."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        config = tomllib.load(f)
    return list(config["tool"]["dmsniff"]["mypyc"]["modules"])


def wanted(argv: list[str], env: dict[str, str]) -> bool:
    """Compile for these setup.py arguments?  DMSNIFF_COMPILE=0: never; =1: whenever extensions
    are built; unset: when a wheel or an install is built, but not for an editable install."""
    commands = set(argv[1:])
    choice = env.get("DMSNIFF_COMPILE", "")
    if choice == "0" or not _BUILD_COMMANDS & commands:
        return False
    return choice == "1" or not {"editable_wheel", "develop"} & commands


def _extensions() -> list[Any]:
    """mypyc's extensions, or none (pure Python) when mypyc is missing or fails: never a failed install."""
    if not wanted(sys.argv, dict(os.environ)):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("dmsniff: mypyc not available, installing pure Python", file=sys.stderr)
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as ini:
        ini.write(_MYPY_CONFIG)
    try:
        # group_name: the shared runtime library is dmsniff__mypyc.*.so, not a hash.
        paths = ["--config-file", ini.name, *compiled_modules()]
        return list(mypycify(paths, opt_level="3", group_name="dmsniff"))
    except (SystemExit, Exception) as e:  # mypyc reports a failed check with sys.exit
        print(f"dmsniff: mypyc could not compile ({e}); installing pure Python", file=sys.stderr)
        return []
    finally:
        os.unlink(ini.name)


class OptionalBuildExt(build_ext):
    """A C compiler that is missing or fails leaves the pure-Python modules in place, all of them.

    The compiled modules share one runtime library: a partial build would leave modules that
    cannot be imported, so on any failure every built extension is removed again.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # distutils' CompileError, LinkError, PlatformError, an absent gcc
            print(f"dmsniff: compiling failed ({e}); installing pure Python", file=sys.stderr)
            for ext in self.extensions:
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)


# setuptools runs this file with __name__ "__main__"; tests import it for wanted().
if __name__ == "__main__":
    setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
