"""The headless packages (core, data, training) import and work with Qt made unimportable."""
import subprocess
import sys
import textwrap

BLOCK_QT = textwrap.dedent("""
    import importlib.abc, pkgutil, sys

    class NoQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtpy"):
                raise ImportError(f"Qt is blocked in this test: {name}")
            return None

    sys.meta_path.insert(0, NoQt())
    import workbench
    imported = []
    for package in ("workbench.core", "workbench.data", "workbench.training"):
        try:
            module = __import__(package, fromlist=["_"])
        except ModuleNotFoundError:
            continue
        imported.append(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            __import__(info.name)
            imported.append(info.name)
    from workbench.core import summarize
    assert summarize("alexnet")["total_params"] == 62378344
    print(len(imported))
""")


def test_core_data_and_training_import_without_qt() -> None:
    result = subprocess.run([sys.executable, "-c", BLOCK_QT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 8  # core's modules at least: the walk really ran
