"""Loads the CloudFormation templates and renders them for given parameter values, offline.

cfn-lint checks a template's syntax and types; these helpers answer what lint cannot: what the template
turns into for concrete parameters (which conditional resources exist, what a `!Sub` or `!If` yields).
The renderer implements the intrinsic functions the templates use, as CloudFormation evaluates them;
anything else raises, so a template change cannot slip past the tests unevaluated.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import cfnlint.decode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ACCOUNT_ID = "111122223333"
REGION = "us-east-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::StackName": "logrelay-test",
    "AWS::URLSuffix": "amazonaws.com",
}


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


def load(relative_path: str) -> dict[str, Any]:
    """Parses a template with cfn-lint's decoder (understands `!Ref` and the other short forms)."""
    path = os.path.join(ROOT, relative_path)
    template, matches = cfnlint.decode.decode(path)
    if matches:
        raise AssertionError(f"{relative_path} does not parse: {[str(m) for m in matches]}")
    return _plain(template)


def _plain(node: Any) -> Any:
    """cfn-lint's nodes carry line marks; turn them into plain dicts, lists and strings."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def with_defaults(template: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """A copy of the template whose parameter defaults are replaced by `params`."""
    template = copy.deepcopy(template)
    declared = template.get("Parameters", {})
    for name, value in params.items():
        if name not in declared:
            raise KeyError(f"no parameter {name}")
        declared[name]["Default"] = value
    return template


def parameter_values(template: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """Parameter values as CloudFormation sees them: defaults overridden by `params`, checked against
    the declared constraints (AllowedValues, AllowedPattern, Min/MaxLength, Min/MaxValue)."""
    declared = template.get("Parameters", {})
    unknown = set(params) - set(declared)
    if unknown:
        raise KeyError(f"unknown parameters {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in params:
            raw = params[name]
        elif "Default" in spec:
            raw = str(spec["Default"])
        else:
            raise KeyError(f"parameter {name} has no default and no value")
        check_parameter(name, spec, raw)
        if spec["Type"] == "CommaDelimitedList":
            values[name] = raw.split(",")
        else:
            values[name] = raw
    return values


def check_parameter(name: str, spec: dict[str, Any], raw: str) -> None:
    """Raises ValueError when CloudFormation would reject `raw` for the parameter."""
    items = raw.split(",") if spec["Type"] == "CommaDelimitedList" else [raw]
    for item in items:
        if "AllowedValues" in spec and item not in [str(v) for v in spec["AllowedValues"]]:
            raise ValueError(f"{name}: {item!r} not in {spec['AllowedValues']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], item):
            raise ValueError(f"{name}: {item!r} does not match {spec['AllowedPattern']}")
        if "MinLength" in spec and len(item) < int(spec["MinLength"]):
            raise ValueError(f"{name}: shorter than {spec['MinLength']}")
        if "MaxLength" in spec and len(item) > int(spec["MaxLength"]):
            raise ValueError(f"{name}: longer than {spec['MaxLength']}")
        if spec["Type"] == "Number":
            number = float(item)
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise ValueError(f"{name}: below {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise ValueError(f"{name}: above {spec['MaxValue']}")


class Rendered:
    """A template evaluated for one set of parameter values."""

    def __init__(self, template: dict[str, Any], params: dict[str, str] | None = None) -> None:
        self.template = template
        self.params = parameter_values(template, params or {})
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self.condition(name)
        self.rules_failed = [
            name for name, rule in template.get("Rules", {}).items() if not self._rule_holds(rule)
        ]
        self.resources: dict[str, dict[str, Any]] = {}
        for name, resource in template.get("Resources", {}).items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            rendered = {k: v for k, v in resource.items() if k != "Properties"}
            rendered["Properties"] = self.eval(resource.get("Properties", {}))
            self.resources[name] = rendered
        self.outputs = {
            name: self.eval(output["Value"])
            for name, output in template.get("Outputs", {}).items()
            if "Condition" not in output or self.condition(output["Condition"])
        }

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            expression = self.template["Conditions"][name]
            self.conditions[name] = bool(self.eval(expression))
        return self.conditions[name]

    def _rule_holds(self, rule: dict[str, Any]) -> bool:
        if "RuleCondition" in rule and not self.eval(rule["RuleCondition"]):
            return True
        return all(self.eval(a["Assert"]) for a in rule["Assertions"])

    def ref(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        resource = self.template["Resources"].get(name)
        if resource is None:
            raise KeyError(f"Ref to unknown {name}")
        # The few resources whose Ref value the templates use by content.
        if resource["Type"] == "AWS::Logs::LogGroup":
            return self.eval(resource["Properties"]["LogGroupName"])
        return f"<Ref {name}>"

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in variables:
                value = variables[key]
            elif "." in key and key.split(".")[0] in self.template["Resources"]:
                resource, attribute = key.split(".", 1)
                value = f"<{resource}.{attribute}>"
            else:
                value = self.ref(key)
            if not isinstance(value, str):
                raise TypeError(f"Fn::Sub variable {key} is not a string: {value!r}")
            return value

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.eval(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                if resource not in self.template["Resources"]:
                    raise KeyError(f"GetAtt of unknown resource {resource}")
                return f"<{resource}.{attribute}>"
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                text, variables = arg
                return self.sub(text, {k: self.eval(v) for k, v in variables.items()})
            if key == "Fn::Join":
                delimiter, items = arg
                items = self.eval(items)
                if not all(isinstance(i, str) for i in items):
                    raise TypeError(f"Fn::Join of non-strings {items!r}")
                return delimiter.join(items)
            if key == "Fn::Split":
                delimiter, text = arg
                return self.eval(text).split(delimiter)
            if key == "Fn::Select":
                index, items = arg
                items = self.eval(items)
                index = int(self.eval(index))
                if index >= len(items):
                    raise IndexError(f"Fn::Select index {index} out of {items!r}")
                return items[index]
            if key == "Fn::If":
                name, then, otherwise = arg
                return self.eval(then if self.condition(name) else otherwise)
            if key == "Fn::Equals":
                left, right = (self.eval(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.eval(arg[0])
            if key == "Fn::And":
                return all(self.eval(a) for a in arg)
            if key == "Fn::Or":
                return any(self.eval(a) for a in arg)
            if key == "Fn::FindInMap":
                mapping, top, second = (self.eval(a) for a in arg)
                try:
                    return self.template["Mappings"][mapping][top][second]
                except KeyError as e:
                    raise KeyError(f"Fn::FindInMap {mapping}/{top}/{second}: no {e}") from None
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key == "Fn::EachMemberEquals":
                items, value = arg
                return all(i == value for i in self.eval(items))
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not rendered by these tests")
        return {k: v for k, v in ((k, self.eval(v)) for k, v in node.items()) if v is not NO_VALUE}


def render(relative_path: str, params: dict[str, str] | None = None) -> Rendered:
    """Loads and renders a template."""
    return Rendered(load(relative_path), params)


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a policy document, each with Action and Resource as lists."""
    result = []
    for statement in policy_document["Statement"]:
        statement = dict(statement)
        for key in ("Action", "Resource"):
            if key in statement and not isinstance(statement[key], list):
                statement[key] = [statement[key]]
        result.append(statement)
    return result


def references(node: Any) -> set[str]:
    """Names a template fragment refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if isinstance(value, list):
                    found |= references(value[1])
            elif key == "Condition" and isinstance(value, str):
                found.add("Condition:" + value)
            else:
                found |= references(value)
    return found
