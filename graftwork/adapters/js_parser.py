"""A real JavaScript/JSX parser for evaluation: tree-sitter with its JavaScript grammar (which
includes JSX). `parse_module(text)` -> `core.eval.metrics.JsModule`: whether the text parses
without an error node, where the first error is, and the names the module exports."""

from __future__ import annotations

import functools
from typing import Any

from graftwork.core.eval.metrics import JsModule


@functools.cache
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_javascript

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))


def _first_error(node: Any) -> Any:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error:
            found = _first_error(child)
            if found is not None:
                return found
    return None


def _declared_names(decl: Any) -> list[str]:
    if decl.type in ("lexical_declaration", "variable_declaration"):
        names = []
        for child in decl.named_children:
            if child.type == "variable_declarator":
                name = child.child_by_field_name("name")
                if name is not None and name.type == "identifier":
                    names.append(name.text.decode())
        return names
    name = decl.child_by_field_name("name")  # function, generator, class
    return [name.text.decode()] if name is not None else []


def _exports(root: Any) -> set[str]:
    names: set[str] = set()
    for stmt in root.named_children:
        if stmt.type != "export_statement":
            continue
        decl = stmt.child_by_field_name("declaration")
        if decl is not None:
            names.update(_declared_names(decl))
        if any(c.type == "default" for c in stmt.children):
            names.add("default")
        for clause in stmt.named_children:
            if clause.type != "export_clause":
                continue
            for spec in clause.named_children:
                alias = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
                if alias is not None:
                    names.add(alias.text.decode())
    return names


def parse_module(text: str) -> JsModule:
    tree = _parser().parse(text.encode("utf-8"))
    root = tree.root_node
    error = None
    if root.has_error:
        node = _first_error(root)
        where = f"line {node.start_point[0] + 1}" if node is not None else "somewhere"
        error = f"syntax error at {where}"
    return JsModule(ok=error is None, error=error, exports=frozenset(_exports(root)))
