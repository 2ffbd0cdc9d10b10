"""A picture of what Flux applies for one site (``dlaas-gen graph``).

Why: a reviewer of a site needs to see the order Flux applies things in, where the hub's
values come from, and which host folders the EOS DaemonSet shares with user pods; all of it is
in the rendered objects, so the picture is drawn from them (`build`) and written as Mermaid or
Graphviz DOT (`formats`), never from the site file directly.
"""

from dlaas_gen.commands.graph.build import Edge, Graph, Node, site_graph
from dlaas_gen.commands.graph.formats import to_dot, to_mermaid

__all__ = ["Edge", "Graph", "Node", "site_graph", "to_dot", "to_mermaid"]
