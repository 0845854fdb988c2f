"""Adding nodes and constants to the graph a custom skl2onnx converter builds."""

from __future__ import annotations

from typing import Any


class Nodes:
    """A converter's `scope` and `container`, with every name made unique in the graph."""

    def __init__(self, scope: Any, container: Any) -> None:
        self.scope, self.container = scope, container

    def add(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        """A node; its output's name (a new one unless `output` is given)."""
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        name = self.scope.get_unique_operator_name(op_type)
        self.container.add_node(op_type, inputs, output, name=name, **attrs)
        return output

    def constant(
        self, key: str, dtype: int, values: list[Any], shape: list[int] | None = None
    ) -> str:
        """An initializer holding `values` (shape: [len(values)] unless given); its name."""
        output = self.scope.get_unique_variable_name(key)
        self.container.add_initializer(output, dtype, shape or [len(values)], values)
        return output
