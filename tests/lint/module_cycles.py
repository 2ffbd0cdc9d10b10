"""An import-linter contract type: no import cycle between modules, at any depth.

Why: import-linter's ``acyclic_siblings`` contract looks at sibling packages with their
descendants squashed, so it misses a cycle between a package's ``__init__`` and one of its
own modules, and it names packages rather than the import lines to change. This contract takes
the graph import-linter built (every import statement: module-level, inside functions and under
``TYPE_CHECKING``, unless the configuration sets ``exclude_type_checking_imports``) and reports
each strongly connected group of modules with one shortest cycle through it, line by line.

Used from ``pyproject.toml`` (``[tool.importlinter] contract_types``); ``lint-imports`` puts
the working directory on ``sys.path``, so run it from the repository root (``make lint``).
"""

from __future__ import annotations

from collections import deque

import grimp
from importlinter import Contract, ContractCheck, fields, output


class ModuleCyclesContract(Contract):
    """Every module under `containers` is in no import cycle with another module or itself.

    Configuration options:
        containers: the packages whose modules are checked (their imports of modules outside
            them are ignored).
    """

    type_name = "module_cycles"

    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        """Find every cycle group and one shortest cycle through each."""
        modules = set()
        for container in self.containers:  # type: ignore[attr-defined]
            if container not in graph.modules:
                raise ValueError(f"module_cycles: {container!r} is not in the import graph")
            modules |= {container} | graph.find_descendants(container)
        edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
        groups = sorted((shortest_cycle(group, edges), sorted(group))
                        for group in cycle_groups(edges))
        output.verbose_print(verbose, f"{len(modules)} modules, {len(groups)} cycle groups")
        found = [{"members": members, "links": [(a, b, _lines(graph, a, b))
                                                for a, b in zip(c, c[1:] + c[:1], strict=True)]}
                 for c, members in groups]
        return ContractCheck(kept=not found, metadata={"cycles": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Print each cycle as its chain of import lines."""
        for found in check.metadata["cycles"]:
            members = found["members"]
            output.print_error(f"{len(members)} modules import each other in a cycle: "
                               f"{', '.join(members)}. One shortest cycle:")
            output.new_line()
            for importer, imported, lines in found["links"]:
                output.indent_cursor()
                output.print(f"{importer} -> {imported} (l. {lines})")
            output.new_line()


def _lines(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    return ", ".join(sorted({str(d["line_number"]) for d in details})) or "?"


def reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    """Every module `start` imports directly or through others (itself only through a cycle)."""
    seen: set[str] = set()
    queue = deque(edges[start])
    while queue:
        node = queue.popleft()
        if node not in seen:
            seen.add(node)
            queue.extend(edges[node] - seen)
    return seen


def cycle_groups(edges: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import each other (directly or not), each group once.

    Why plain reachability: a few hundred modules, so a breadth-first search from each one is
    instant and obviously right. A module alone is a group when it imports itself.
    """
    reach = {module: reachable(module, edges) for module in edges}
    groups: list[set[str]] = []
    for module in sorted(edges):
        if module in reach[module] and not any(module in g for g in groups):
            groups.append({other for other in reach[module] if module in reach[other]})
    return groups


def shortest_cycle(group: set[str], edges: dict[str, set[str]]) -> list[str]:
    """One shortest cycle inside `group`, starting at its first module by name."""
    start = min(group)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(edges[node] & group):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return path[::-1]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start} in its own cycle group")  # pragma: no cover
