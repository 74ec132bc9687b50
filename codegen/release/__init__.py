"""The release command: ``nox -s release [-- --dry-run]`` (``python -m codegen.release``).

From the breaking gate's report since the last release (the snapshot ``releases/latest/``, see
:mod:`codegen.release.snapshot`) it decides the version of every schema file and of the release
(:mod:`codegen.release._plan`; rules in ``docs/releases.md``), then:

1. bumps each changed schema's ``$id`` and every ``$ref`` to it;
2. sets the wheel's version (``pyproject.toml``) and the npm package's (``ts/package.json``) to the
   release version;
3. regenerates everything (:func:`codegen.pipeline.generate`: models with their ``SCHEMA_ID``,
   ``generated.__version__``, bundles, TypeScript, docs);
4. writes the ``CHANGELOG.md`` entry (per schema file: what changed, who breaks, the migration
   files added since the last release);
5. records the release in ``releases/latest/``, commits, and tags the commit ``v<version>``.

``--dry-run`` prints the plan and the changelog entry and changes nothing.
"""

from __future__ import annotations

from codegen.release._apply import main, release
from codegen.release._plan import Level, Plan, plan_release

__all__ = ["Level", "Plan", "main", "plan_release", "release"]
