"""Small context derivations: CPU quantities become the numbers the chart passes to JupyterHub."""

from __future__ import annotations

import pytest

from dlaas_gen.context.common import cpu_number


@pytest.mark.parametrize(("value", "number"), [
    (None, None), ("1", 1), (2, 2), ("4", 4), ("100m", 0.1), ("500m", 0.5), ("1500m", 1.5),
    ("333m", 0.333), ("0.5", 0.5), ("1.0", 1), ("2.5", 2.5), ("1k", 1000), (0.25, 0.25),
])
def test_cpu_number(value, number) -> None:
    got = cpu_number(value)
    assert got == number and type(got) is type(number)
