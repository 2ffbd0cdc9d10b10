"""Write a `Graph` as Mermaid (for Markdown in GitLab/GitHub) or Graphviz DOT.

Why: ids in both languages must be plain identifiers, so nodes get ``n0, n1, ...`` in sorted
order of their object ids; the output is deterministic and snapshot-tested.
"""

from __future__ import annotations

from dlaas_gen.commands.graph.build import Graph, Node

#: Mermaid classes: objects ops provide (dashed) versus rendered ones.
_MERMAID_CLASSES = (
    "  classDef external stroke-dasharray: 4 3,fill:#f6f6f6\n"
    "  classDef flux fill:#e8f0fe\n"
)


def _ids(graph: Graph) -> dict[str, str]:
    return {node_id: f"n{i}" for i, node_id in enumerate(sorted(graph.nodes))}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _mermaid_node(node: Node, ident: str) -> str:
    label = _mermaid_text(node.label)
    if node.kind == "Kustomization":
        return f'{ident}[["{label}"]]'
    if node.kind == "HostPath":
        return f'{ident}[("{label}")]'
    if node.kind == "UserPods":
        return f'{ident}(["{label}"])'
    return f'{ident}["{label}"]'


def to_mermaid(graph: Graph) -> str:
    """Mermaid ``flowchart`` text, ending with a newline."""
    ids = _ids(graph)
    lines = ["flowchart LR"]
    grouped: dict[str | None, list[Node]] = {}
    for node_id in sorted(graph.nodes):
        node = graph.nodes[node_id]
        grouped.setdefault(node.group if node.group in graph.groups else None, []).append(node)
    for index, group in enumerate(sorted(graph.groups)):
        lines.append(f'  subgraph g{index}["{_mermaid_text(graph.groups[group])}"]')
        lines += [f"    {_mermaid_node(n, ids[n.id])}" for n in grouped.get(group, [])]
        lines.append("  end")
    lines += [f"  {_mermaid_node(n, ids[n.id])}" for n in grouped.get(None, [])]
    for edge in sorted(graph.edges):
        label = f"|{_mermaid_text(edge.label)}|" if edge.label else ""
        lines.append(f"  {ids[edge.src]} -->{label} {ids[edge.dst]}")
    external = [ids[n] for n in sorted(graph.nodes) if graph.nodes[n].external]
    flux = [ids[n] for n in sorted(graph.nodes) if graph.nodes[n].kind == "Kustomization"
            and not graph.nodes[n].external]
    text = "\n".join(lines) + "\n" + _MERMAID_CLASSES
    if external:
        text += f"  class {','.join(external)} external\n"
    if flux:
        text += f"  class {','.join(flux)} flux\n"
    return text


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_node(node: Node, ident: str) -> str:
    shapes = {"Kustomization": "folder", "HostPath": "cylinder", "UserPods": "oval"}
    shape = shapes.get(node.kind, "box")
    style = ', style="dashed"' if node.external else ""
    return f'{ident} [label="{_dot_text(node.label)}", shape={shape}{style}];'


def to_dot(graph: Graph) -> str:
    """Graphviz ``digraph`` text, ending with a newline."""
    ids = _ids(graph)
    lines = ["digraph site {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    grouped: dict[str | None, list[Node]] = {}
    for node_id in sorted(graph.nodes):
        node = graph.nodes[node_id]
        grouped.setdefault(node.group if node.group in graph.groups else None, []).append(node)
    for index, group in enumerate(sorted(graph.groups)):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label="{_dot_text(graph.groups[group])}";')
        lines += [f"    {_dot_node(n, ids[n.id])}" for n in grouped.get(group, [])]
        lines.append("  }")
    lines += [f"  {_dot_node(n, ids[n.id])}" for n in grouped.get(None, [])]
    for edge in sorted(graph.edges):
        label = f' [label="{_dot_text(edge.label)}"]' if edge.label else ""
        lines.append(f"  {ids[edge.src]} -> {ids[edge.dst]}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"
