"""Compile the translation catalogs into the wheel, so `pip install .` speaks Vietnamese.

Everything else about the package lives in pyproject.toml; this only extends build_py.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self):
        for po_path in Path("kiosk/translations").glob("*/LC_MESSAGES/messages.po"):
            with open(po_path, "rb") as po_file:
                catalog = read_po(po_file)
            with open(po_path.with_suffix(".mo"), "wb") as mo_file:
                write_mo(mo_file, catalog)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
