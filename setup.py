"""Ship templates/ and migrations/ inside the package of a built wheel.

They stay at the top level of the repository (where people edit them); a wheel carries
them as ``service/templates`` and ``service/migrations``, where ``service.db.shipped``
finds them. Everything else about the build is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "migrations")


class BuildWithShippedFolders(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout
        for name in SHIPPED:
            shutil.copytree(
                name,
                Path(self.build_lib) / "service" / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildWithShippedFolders})
