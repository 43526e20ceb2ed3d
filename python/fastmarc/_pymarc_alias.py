"""`install_as_pymarc()`: make every `import pymarc` in the process give fastmarc."""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

_TARGET = "fastmarc"
_ALIAS = "pymarc"


def _is_alias(name: str) -> bool:
    return name == _ALIAS or name.startswith(_ALIAS + ".")


def _is_fastmarc(module: object) -> bool:
    name = getattr(module, "__name__", "")
    return name == _TARGET or name.startswith(_TARGET + ".")


class _AliasLoader(importlib.abc.Loader):
    """Loads `pymarc.X` as the module `fastmarc.X` itself (one module, two names).

    The import system reads `sys.modules` again after `exec_module`, so putting fastmarc's
    module there makes the import return it; the placeholder it made is dropped.
    """

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.target)


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds `pymarc.X` as fastmarc's `fastmarc.X`, and nothing else under `pymarc`."""

    def find_spec(self, fullname, path=None, target=None):
        if not _is_alias(fullname):
            return None
        counterpart = _TARGET + fullname[len(_ALIAS) :]
        if importlib.util.find_spec(counterpart) is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} ({_ALIAS} is fastmarc in this process, "
                f"and fastmarc has no {counterpart!r})",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(counterpart))


def install_as_pymarc() -> None:
    """Make `import pymarc`, and `import pymarc.X` for every module of pymarc, give fastmarc.

    Call it once, at the start of the program, before anything imports pymarc: then a
    library that imports pymarc itself runs on fastmarc unchanged. It raises RuntimeError if
    the real pymarc is already imported, since objects made by it would then be mixed with
    fastmarc's. Calling it again is harmless.
    """
    real = sorted(name for name, module in sys.modules.items() if _is_alias(name) and not _is_fastmarc(module))
    if real:
        raise RuntimeError(
            "fastmarc.install_as_pymarc() must run before pymarc is imported, but the real "
            f"pymarc is already loaded ({', '.join(real)}); call it first thing in the program"
        )
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
    for name, module in list(sys.modules.items()):
        if _is_fastmarc(module) and name.startswith(_TARGET):
            sys.modules.setdefault(_ALIAS + name[len(_TARGET) :], module)
