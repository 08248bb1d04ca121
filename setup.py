"""Which packages ship: every package under companion/ and ui/, found, never listed by hand
(a hand-made list once left companion.store out of the installed app), and resources/ as the
data package companion_resources. Everything else about the project is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["companion", "companion.*", "ui", "ui.*"]) + ["companion_resources"],
    package_dir={"companion_resources": "resources"},
)
