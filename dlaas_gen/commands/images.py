"""The build plan of the sites' images: which context to build into which reference, in order.

Why: CI builds and pushes every context whose tag is not yet in the registry before the
manifests naming that tag are merged; it needs each context folder and its full reference, with
every image after the image it is built on. The tags come from the same code as ``render``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from dlaas_gen.context.images import build_images
from dlaas_gen.loader import load_site, select_sites


@dataclass(frozen=True)
class PlannedImage:
    """One image to build.

    Attributes:
        site: the site that builds it.
        name: its key under ``images:``.
        context: the build context folder (``<out>/<site>/images/<name>``).
        image: the reference to build and push (``<registry>/<name>:<tag>``).
        parent: the reference it is built on when that is another image of the site.
        level: 0 on a base image, parent's level + 1 (build levels in order).
    """

    site: str
    name: str
    context: str
    image: str
    parent: str | None
    level: int

    def as_dict(self) -> dict[str, object]:
        """The fields as a JSON-ready mapping."""
        return asdict(self)


def plan_images(sites_dir: Path, names: Sequence[str], out_dir: Path) -> list[PlannedImage]:
    """Every built image of the selected sites, parents before children.

    Raises:
        ConfigError: a site file is invalid.
        UsageError: a named site does not exist.
    """
    planned: list[PlannedImage] = []
    for path in select_sites(sites_dir, names):
        site = load_site(path)
        built = build_images(site.name, site.config)
        for image in built.values():
            parent = built[image.parent].ref if image.parent else None
            planned.append(PlannedImage(site=site.name, name=image.name,
                                        context=str(out_dir / site.name / image.folder),
                                        image=image.ref, parent=parent, level=image.level))
    return sorted(planned, key=lambda p: (p.level, p.site, p.name))
