"""Query cost as Shopify computes it (https://shopify.dev/docs/api/usage/limits):
scalars and enums 0, objects 1, connections 2 + (first or last) x (1 + the cost
of the fields of one node), each mutation field 10. The actual cost counts the nodes returned."""

from graphql import (
    FieldNode, FragmentSpreadNode, InlineFragmentNode, VariableNode, get_named_type, is_leaf_type, value_from_ast_untyped,
)

MUTATION_COST = 10


def _arg(field_node, name, variables):
    for a in field_node.arguments or ():
        if a.name.value == name:
            if isinstance(a.value, VariableNode):
                return (variables or {}).get(a.value.name.value)
            return value_from_ast_untyped(a.value, variables)
    return None


def _is_connection(type_name):
    return type_name.endswith("Connection")


def selection_cost(schema, parent_type, selection_set, fragments, variables, data=None, free=False):
    """Cost of a selection set on ``parent_type``. ``data`` (the result at
    this level, a dict) switches to the actual cost. ``free``: the level is
    inside a connection (edges, node, nodes, pageInfo cost nothing)."""
    total = 0
    if selection_set is None:
        return 0
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            name = sel.name.value
            if name.startswith("__"):
                continue
            fields = getattr(parent_type, "fields", None) or {}
            fdef = fields.get(name)
            if fdef is None:
                continue
            named = get_named_type(fdef.type)
            if is_leaf_type(named):
                continue
            key = sel.alias.value if sel.alias else name
            value = data.get(key) if isinstance(data, dict) else None
            if data is not None and value is None:
                continue
            if _is_connection(named.name):
                n = _arg(sel, "first", variables) or _arg(sel, "last", variables) or 0
                per_node = selection_cost(schema, named, sel.selection_set, fragments, variables, None, free=True)
                if data is not None:
                    nodes = value.get("nodes") if isinstance(value, dict) else None
                    edges = value.get("edges") if isinstance(value, dict) else None
                    n = len(nodes) if nodes is not None else (len(edges) if edges is not None else 0)
                total += 2 + n * (1 + per_node)
            elif free and name in ("edges", "node", "nodes", "pageInfo"):
                sub = value[0] if isinstance(value, list) and value else (value if isinstance(value, dict) else None)
                total += selection_cost(schema, named, sel.selection_set, fragments, variables,
                                        None if data is None else sub, free=name == "edges")
            else:
                sub = value
                if isinstance(value, list):
                    # lists of objects (not connections) cost as one object
                    sub = value[0] if value else None
                    if data is not None and sub is None:
                        continue
                total += 1 + selection_cost(schema, named, sel.selection_set, fragments, variables,
                                            None if data is None else sub)
        elif isinstance(sel, InlineFragmentNode):
            t = schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent_type
            total += selection_cost(schema, t, sel.selection_set, fragments, variables, data, free)
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments.get(sel.name.value)
            if frag is not None:
                t = schema.get_type(frag.type_condition.name.value)
                total += selection_cost(schema, t, frag.selection_set, fragments, variables, data, free)
    return total


def operation_cost(schema, operation, fragments, variables, data=None):
    if operation.operation.value == "mutation":
        return MUTATION_COST * sum(1 for s in operation.selection_set.selections if isinstance(s, FieldNode))
    return selection_cost(schema, schema.query_type, operation.selection_set, fragments, variables,
                          data if data is not None else None)
