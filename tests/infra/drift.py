#!/usr/bin/env python3
"""The infrastructure held against the code: names, keys, columns and wiring that must agree.

Reads the Terraform of infra/components/terraform (python-hcl2), the atmos stacks of
infra/stacks (PyYAML), and the Rust sources that define the same names (regular expressions over
the `pub const` lines and the few functions that build keys and schemas), and reports every
disagreement as one line naming both sides. An empty report means no drift.

    target/test-venv/bin/python tests/infra/drift.py [REPO_ROOT]

exits 0 with no drift, 1 with the problems printed one per line (what is pending, not drifted,
goes to standard error either way).

What is held against what:
- every Lambda component's package is target/lambda/{binary}/bootstrap.zip of a binary of a
  crate under functions/, and every such crate has a Lambda component;
- every environment variable a function reads is set on its Lambda, except the optional ones
  (OPTIONAL_VARIABLES), and no other TALLY_ variable is set. What a function reads is found in
  the code: the TALLY_ constants its sources use, and those of every `Type::from_env` of a
  library crate it calls (AwsSettings, ControlSettings, StepFunctionsStarter, ...). A credential
  given as the ARN of a secret (SECRET_ARN_VARIABLES) stands in for its plain variable; while the
  code does not read the ARN variable yet, that is printed as pending on standard error;
- the stream, tables and bucket each function is given resolve, through the stacks' vars and
  `!terraform.state` references, to the resources infra creates, named as the code's defaults;
- the DynamoDB tables' names and key schemas equal aws/src/dynamodb.rs and aws/src/invoices.rs,
  and the tenants table's name, keys and TTL attribute equal control-aws/src/tenants.rs;
- the state machines are made from exactly the ASL files tally-tenancy's test keeps equal to
  its generator, their one template variable resolves to the onboarding Lambda, every Task state
  invokes it through that variable, and their role may invoke nothing else; tenant-management's
  state machine ARNs resolve to those state machines;
- the admin API's routes are the route table of functions/tenant-management/src/routes.rs, on an
  authorizer whose audience is the app client tenant-management checks, and the user pool holds
  the admin group auth/src/lib.rs requires;
- the Kinesis stream is named as the code's DEFAULT_STREAM, which the seed's boto3 producer uses;
- the Glue tables' columns equal the Arrow schemas of schemas/src/table.rs, and their partition
  projection templates equal the layout of schemas/src/layout.rs;
- the dashboard's EMF namespace, dimension and metrics equal functions/usage-consumer;
- the tenant data bucket expires superseded ledger records early under the code's LEDGER_PREFIX;
- the event source mapping keeps the settings the exactly-once design relies on;
- every var a stack gives a component is declared by it, every required var is given, and every
  `!terraform.state` reference names a component and an output that exist;
- the atmos workflows run every component, each after the ones it depends on;
- every component's vpc_id and subnet_ids come, through `!terraform.state`, from the network
  component's VPC and private subnets (no account-specific ids in the stacks);
- the GitOps agent (a Helm release whose Flux Bucket source is given bucket.prefix) syncs the
  prefix control-aws/src/manifests.rs MANIFESTS_PREFIX names, of the bucket the onboarding
  function writes, which the onboarding function may write under; its role may read that prefix
  and nothing else of the bucket. The file names tally-tenancy gives the manifests are ones the
  agent's kustomize-controller applies (`*.yaml`);
- the onboarding function is given, as TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN, the ARN of the
  tally-tenant-boundary policy, kept out of the tenant IAM path and allowing only S3, DynamoDB and
  KMS within the tenant's own prefix, and its role may create a tenant role, or put a boundary on
  one, only with that boundary, and never remove it.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import yaml
from hcl2.utils import SerializationOptions

# Environment variables a function reads only when set: unset (or empty) means a default that
# needs no deployment resource.
OPTIONAL_VARIABLES = {
    "TALLY_METERS_FILE": "unset means the default meter catalog",
    "TALLY_PLANS_FILE": "unset means the default price plans",
    "TALLY_TENANT_ROLE_PRINCIPAL": "unset means tenant roles trust the account root",
}

# Credentials infra gives as the ARN of a Secrets Manager secret, never as a value (a value would
# sit in the function's configuration and in Terraform's state): each ARN variable, and the plain
# variable it stands in for. A function given the ARN variable need not be given the plain one.
# While the code does not read the ARN variable yet, the function cannot use the credential in
# AWS: that is reported as pending (printed, not drift), and ends by itself when the code reads it.
SECRET_ARN_VARIABLES = {
    # The owner's {"username", "password"}, kept and rotated by RDS, for the credential-less URL.
    "TALLY_DATABASE_SECRET_ARN": "TALLY_DATABASE_URL",
    # The application login's password.
    "TALLY_APP_DATABASE_PASSWORD_SECRET_ARN": "TALLY_APP_DATABASE_PASSWORD",
}

# What the checks found pending rather than drifted (see SECRET_ARN_VARIABLES); main prints it.
PENDING: list[str] = []

# The binary whose Lambda every Task state of the onboarding state machines invokes, and the one
# behind the admin API (DESIGN.md: functions/onboarding, functions/tenant-management).
ONBOARDING_BINARY = "onboarding"
ADMIN_API_BINARY = "tenant-management"

# Which state machine (by its committed ASL file) each environment variable names.
STATE_MACHINE_VARIABLES = {
    "TALLY_ONBOARDING_STATE_MACHINE_ARN": "onboarding.asl.json",
    "TALLY_OFFBOARDING_STATE_MACHINE_ARN": "offboarding.asl.json",
}

# Library crates whose `Type::from_env` a function may call: what such a constructor reads, the
# function reads.
LIBRARY_SOURCES = ["aws/src", "control-aws/src", "runtime/src", "postgres/src", "tenancy/src"]

# Which code default each environment variable of a function must resolve to, by the name of the
# Rust constant holding it.
NAME_DEFAULTS = {
    "TALLY_STREAM_NAME": "DEFAULT_STREAM",
    "TALLY_ROLLUPS_TABLE": "DEFAULT_ROLLUPS_TABLE",
    "TALLY_STATE_TABLE": "DEFAULT_STATE_TABLE",
    "TALLY_INVOICES_TABLE": "DEFAULT_INVOICES_TABLE",
    "TALLY_TENANTS_TABLE": "DEFAULT_TENANTS_TABLE",
}

# The DynamoDB tables the code creates: the constant of the default name, the file whose
# create_table call gives the key schema, and the field holding the table's name there. A table
# whose constant the code does not define (yet) is not checked.
CODE_TABLES = [
    ("DEFAULT_ROLLUPS_TABLE", "aws/src/dynamodb.rs", "rollups"),
    ("DEFAULT_STATE_TABLE", "aws/src/dynamodb.rs", "state"),
    ("DEFAULT_INVOICES_TABLE", "aws/src/invoices.rs", "table"),
]

HCL_OPTIONS = SerializationOptions(
    with_comments=False,
    explicit_blocks=False,
    strip_string_quotes=True,
    preserve_heredocs=False,
)

COMPONENTS = Path("infra/components/terraform")
STACKS = Path("infra/stacks")


# -- Terraform ------------------------------------------------------------------------------------


@dataclass
class Component:
    """One Terraform component: its variables, locals, outputs and resources."""

    name: str
    directory: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # Local module calls: the module (loaded as a component) and the call's arguments.
    modules: dict[str, tuple["Component", dict[str, Any]]] = field(default_factory=dict)

    def resources_of(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: body for (type_, name), body in self.resources.items() if type_ == kind}


@functools.lru_cache(maxsize=None)
def parse_hcl(text: str) -> dict[str, Any]:
    return hcl2.loads(text, serialization_options=HCL_OPTIONS)


def load_component(directory: Path) -> Component:
    component = Component(directory.name, directory)
    for path in sorted(directory.glob("*.tf")):
        document = parse_hcl(path.read_text())
        for block in document.get("variable", []):
            component.variables.update(block)
        for block in document.get("locals", []):
            component.locals.update(block)
        for block in document.get("output", []):
            for name, body in block.items():
                component.outputs[name] = body.get("value")
        for block in document.get("resource", []):
            for type_, named in block.items():
                for name, body in named.items():
                    component.resources[(type_, name)] = body
        for block in document.get("data", []):
            for type_, named in block.items():
                for name, body in named.items():
                    component.data[(type_, name)] = body
        for block in document.get("module", []):
            for call, arguments in block.items():
                component.resources.update(module_resources(directory, call, arguments))
                source = arguments.get("source", "")
                if isinstance(source, str) and source.startswith(("./", "../")):
                    module = load_component((directory / source).resolve())
                    component.modules[call] = (module, arguments)
    return component


def module_resources(
    directory: Path, call: str, arguments: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The resources of a local module call (`source = "../…"`), named module.{call}.{name}, each
    body with the module's `var.x` replaced by the caller's argument x (an expression of the
    calling component, which the checks then resolve there) or the module variable's default."""
    source = arguments.get("source", "")
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        return {}
    module = load_component((directory / source).resolve())
    values = {
        name: arguments[name] if name in arguments else body.get("default")
        for name, body in module.variables.items()
    }
    return {
        (type_, f"module.{call}.{name}"): substitute_vars(body, values)
        for (type_, name), body in module.resources.items()
    }


MODULE_VAR = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")


def substitute_vars(value: Any, values: dict[str, Any]) -> Any:
    """`value` with every `${var.x}` of a module replaced by the caller's value of x."""
    if isinstance(value, dict):
        return {key: substitute_vars(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_vars(item, values) for item in value]
    if not isinstance(value, str):
        return value
    whole = MODULE_VAR.fullmatch(value)
    if whole and whole.group(1) in values:
        return values[whole.group(1)]

    def inline(match: re.Match[str]) -> str:
        given = values.get(match.group(1))
        if isinstance(given, str):
            reference = REFERENCE.match(given)
            return "${" + reference.group(1) + "}" if reference else given.replace("${", "$${")
        return match.group(0)

    return MODULE_VAR.sub(inline, value)


def address(kind: str, name: str) -> str:
    """The Terraform address of a resource of a component: module.{call}.{kind}.{name} for one a
    module call creates."""
    if name.startswith("module."):
        _, call, inner = name.split(".", 2)
        return f"module.{call}.{kind}.{inner}"
    return f"{kind}.{name}"


def load_components(root: Path) -> dict[str, Component]:
    return {
        directory.name: load_component(directory)
        for directory in sorted((root / COMPONENTS).iterdir())
        if directory.is_dir()
    }


def first(blocks: Any) -> dict[str, Any]:
    """The one block of a nested block list (python-hcl2 gives every nested block as a list)."""
    if isinstance(blocks, list) and blocks:
        return blocks[0]
    return blocks if isinstance(blocks, dict) else {}


# -- Stacks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateRef:
    """An atmos `!terraform.state <component> <output>` reference."""

    component: str
    output: str


class StackLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus the atmos YAML function the stacks use."""


def _state_ref(loader: yaml.SafeLoader, node: yaml.Node) -> StateRef:
    parts = str(loader.construct_scalar(node)).split()
    if len(parts) != 2:
        raise ValueError(f"!terraform.state takes <component> <output>, got {parts}")
    return StateRef(parts[0], parts[1])


StackLoader.add_constructor("!terraform.state", _state_ref)


def deep_merge(base: Any, override: Any) -> Any:
    """Atmos's merge: maps merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return override


def load_manifest(stacks: Path, name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """A stack manifest with its imports merged in order, the manifest itself last."""
    if name in seen:
        raise ValueError(f"import cycle: {' -> '.join(seen + (name,))}")
    path = stacks / f"{name}.yaml"
    document = yaml.load(path.read_text(), Loader=StackLoader) or {}
    merged: dict[str, Any] = {}
    for imported in document.get("import", []):
        merged = deep_merge(merged, load_manifest(stacks, imported, seen + (name,)))
    body = {key: value for key, value in document.items() if key != "import"}
    return deep_merge(merged, body)


@dataclass
class Stack:
    name: str
    manifest: dict[str, Any]

    def component_names(self) -> list[str]:
        return sorted(self.manifest.get("components", {}).get("terraform", {}))

    def vars(self, component: str) -> dict[str, Any]:
        section = self.manifest.get("components", {}).get("terraform", {}).get(component, {})
        return deep_merge(self.manifest.get("vars", {}), section.get("vars", {}) or {})


def load_stacks(root: Path) -> list[Stack]:
    stacks = root / STACKS
    return [
        Stack(path.stem, load_manifest(stacks, path.stem))
        for path in sorted(stacks.glob("*.yaml"))
    ]


# -- Resolving what a value is in a stack -----------------------------------------------------------


@dataclass(frozen=True)
class ResourceRef:
    """An attribute of a resource whose value is known only after apply."""

    component: str
    kind: str
    name: str
    attribute: str


REFERENCE = re.compile(r"^\$\{([A-Za-z0-9_.\-]+)\}$")
FUNCTION_OF_VAR = re.compile(r"^\$\{tostring\((var\.[A-Za-z0-9_]+)\)\}$")
INTERPOLATION = re.compile(r"(?<!\$)\$\{(var|local)\.([A-Za-z0-9_]+)\}")


class Resolver:
    """Follows a component's expression through vars, locals, stack values, `!terraform.state`
    references and resource names, to a literal where the configuration fixes one."""

    def __init__(self, components: dict[str, Component], stack: Stack):
        self.components = components
        self.stack = stack

    def var(self, component: str, name: str) -> Any:
        stack_vars = self.stack.vars(component)
        if name in stack_vars:
            value = stack_vars[name]
        else:
            value = self.components[component].variables.get(name, {}).get("default")
        if isinstance(value, StateRef):
            target = self.components.get(value.component)
            if target is None or value.output not in target.outputs:
                return None
            return self.resolve(value.component, target.outputs[value.output])
        return value

    def resolve(self, component: str, expression: Any, depth: int = 0) -> Any:
        if depth > 20 or not isinstance(expression, str):
            return expression
        wrapped = FUNCTION_OF_VAR.match(expression)
        if wrapped:
            expression = "${" + wrapped.group(1) + "}"
        match = REFERENCE.match(expression)
        if match:
            return self._reference(component, match.group(1), depth)
        if "${" not in expression.replace("$${", ""):
            return expression.replace("$${", "${")
        return self._template(component, expression, depth)

    def _reference(self, component: str, path: str, depth: int) -> Any:
        parts = path.split(".")
        if parts[0] == "var" and len(parts) == 2:
            return self.var(component, parts[1])
        if parts[0] == "local" and len(parts) == 2:
            return self.resolve(component, self.components[component].locals.get(parts[1]), depth + 1)
        if parts[0] == "module" and len(parts) == 3:
            return self._module_output(component, parts[1], parts[2], depth)
        if len(parts) == 3 and parts[0] not in ("data", "module"):
            kind, name, attribute = parts
            body = self.components[component].resources.get((kind, name), {})
            if attribute == "name" and isinstance(body.get("name"), str):
                resolved = self.resolve(component, body["name"], depth + 1)
                if isinstance(resolved, str) and "${" not in resolved:
                    return resolved
            return ResourceRef(component, kind, name, attribute)
        return "${" + path + "}"

    def _module_output(self, component: str, call: str, output: str, depth: int) -> Any:
        """`module.{call}.{output}`: the module's output, as a resource of the calling component
        (module.{call}.{name}) or, for a module var, the caller's argument."""
        module, arguments = self.components[component].modules.get(call, (None, {}))
        value = module.outputs.get(output) if module else None
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if not match:
            return f"${{module.{call}.{output}}}"
        parts = match.group(1).split(".")
        if len(parts) == 3 and parts[0] not in ("data", "module", "var", "local"):
            kind, name, attribute = parts
            return ResourceRef(component, kind, f"module.{call}.{name}", attribute)
        if parts[0] == "var" and len(parts) == 2 and parts[1] in arguments:
            return self.resolve(component, arguments[parts[1]], depth + 1)
        return f"${{module.{call}.{output}}}"

    def _template(self, component: str, template: str, depth: int) -> Any:
        """A string with ${var.x} and ${local.x} inside; rendered when every part is literal."""
        rendered, complete = self._render(component, template, depth)
        return rendered if complete else template

    def render(self, component: str, template: Any) -> str:
        """`template` with every ${var.x} and ${local.x} resolved; a part known only after apply
        shows as <component:type.name.attribute>, anything else unresolved as <expression>."""
        return self._render(component, template, 0)[0]

    def _render(self, component: str, template: Any, depth: int) -> tuple[str, bool]:
        if isinstance(template, ResourceRef):
            return f"<{template.component}:{template.kind}.{template.name}.{template.attribute}>", False
        if not isinstance(template, str) or depth > 20:
            return f"<{template}>", False
        whole = REFERENCE.match(template)
        if whole:
            value = self._reference(component, whole.group(1), depth + 1)
            if isinstance(value, str) and value == template:
                return f"<{whole.group(1)}>", False
            return self._render(component, value, depth + 1)
        complete = True

        def substitute(match: re.Match[str]) -> str:
            nonlocal complete
            value = self._reference(component, f"{match.group(1)}.{match.group(2)}", depth + 1)
            text, done = self._render(component, value, depth + 1)
            complete = complete and done
            return text

        rendered = INTERPOLATION.sub(substitute, template)
        if "${" in rendered.replace("$${", ""):
            complete = False
        return rendered.replace("$${", "${"), complete


# -- The code's side --------------------------------------------------------------------------------


def rust_string_consts(path: Path) -> dict[str, str]:
    """`pub const NAME: &str = "value";` of one Rust file."""
    pattern = re.compile(r'pub const ([A-Z0-9_]+): &str = "([^"]*)";')
    return dict(pattern.findall(path.read_text()))


def function_crates(root: Path) -> dict[str, dict[str, Any]]:
    """Each crate under functions/: its [[bin]] names and its source files."""
    crates = {}
    for manifest in sorted((root / "functions").glob("*/Cargo.toml")):
        text = manifest.read_text()
        bins = re.findall(r'\[\[bin\]\]\s*\nname\s*=\s*"([^"]+)"', text)
        crates[manifest.parent.name] = {
            "bins": bins,
            "sources": sorted((manifest.parent / "src").rglob("*.rs")),
        }
    return crates


def rust_code(text: str) -> str:
    """Rust source without its comments and with its string literals emptied, so that a name
    found in it is one the code uses, not one a doc comment or a message mentions."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return re.sub(r"(^|\s)//.*$", r"\1", text, flags=re.MULTILINE)


def _settings_sources(root: Path, texts: list[str], own_types: set[str]) -> list[Path]:
    """The library files defining the `from_env` of every `Type::from_env` the texts call, and
    of those the found files call in turn; types the crate defines itself are its own."""
    found: list[Path] = []
    pending = list(texts)
    seen: set[str] = set(own_types)
    libraries = [path for folder in LIBRARY_SOURCES for path in sorted((root / folder).rglob("*.rs"))]
    while pending:
        text = rust_code(pending.pop())
        for type_name in sorted(set(re.findall(r"\b([A-Z][A-Za-z0-9]*)::from_env\b", text)) - seen):
            seen.add(type_name)
            for path in libraries:
                code = rust_code(path.read_text())
                body = re.search(rf"\bimpl(?:<[^>]*>)?\s+{type_name}\b[^{{]*\{{", code)
                if body and "fn from_env" in code[body.end():] and path not in found:
                    found.append(path)
                    pending.append(path.read_text())
    return found


def variables_read(root: Path, crate: dict[str, Any]) -> set[str]:
    """The environment variables a function crate reads: every `TALLY_…` constant its sources
    use (however imported: `env::X`, `use …::{X, Y}`, `X`), and those used by the `from_env` of
    each library type it builds that way (AwsSettings, ControlSettings, StepFunctionsStarter,
    ...), resolved to their values by the crate's own constants, runtime/src/env.rs or the
    library file's; plus `env::var("TALLY_…")` literals."""
    runtime = rust_string_consts(root / "runtime/src/env.rs")
    own: dict[str, str] = {}
    texts = []
    for source in crate["sources"]:
        own.update(rust_string_consts(source))
        texts.append(source.read_text())
    own_types = {
        name for text in texts for name in re.findall(r"\b(?:struct|enum)\s+([A-Z]\w*)", text)
    }
    library = {}
    for path in _settings_sources(root, texts, own_types):
        library.update(rust_string_consts(path))
        texts.append(path.read_text())
    names = set()
    for text in texts:
        for constant in set(re.findall(r"\b(TALLY_[A-Z0-9_]+)\b", rust_code(text))):
            value = own.get(constant, runtime.get(constant, library.get(constant)))
            names.add(value if value is not None else f"<undefined constant {constant}>")
        names.update(re.findall(r'env::var(?:_os)?\("(TALLY_[A-Z0-9_]+)"\)', text))
    return names


def code_defaults(root: Path, crates: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """The default names of the code, by constant name; a constant defined in several places
    (DEFAULT_STREAM) gives every value found."""
    sources = sorted((root / "aws/src").glob("*.rs")) + sorted((root / "control-aws/src").glob("*.rs"))
    for crate in crates.values():
        sources.extend(crate["sources"])
    defaults: dict[str, set[str]] = {}
    for source in sources:
        for name, value in rust_string_consts(source).items():
            if name.startswith("DEFAULT_"):
                defaults.setdefault(name, set()).add(value)
    return defaults


def table_key_schemas(root: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The key schemas `tally aws init` creates, by (file, field naming the table):
    (partition key, sort key, attribute type). Every table is created by the one create_table
    of aws/src/dynamodb.rs, whose attribute type is read there."""
    dynamodb = (root / "aws/src/dynamodb.rs").read_text()
    types = set(re.findall(r"ScalarAttributeType::([A-Z])\b", dynamodb))
    kind = types.pop() if len(types) == 1 else f"<attribute types {sorted(types)}>"
    call = re.compile(
        r'create_table\(\s*(?:[^;()]*?,\s*)?&self\.(\w+),\s*"([^"]+)",\s*"([^"]+)"\s*,?\s*\)',
        re.DOTALL,
    )
    schemas = {}
    for path in sorted((root / "aws/src").glob("*.rs")):
        for table, partition, sort in call.findall(path.read_text()):
            schemas[(f"aws/src/{path.name}", table)] = (partition, sort, kind)
    return schemas


def _function_body(text: str, name: str) -> str:
    start = text.find(f"fn {name}(")
    if start < 0:
        return ""
    depth, index = 0, text.index("{", start)
    for position in range(index, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[index : position + 1]
    return text[index:]


def _split_arguments(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for character in text:
        if character in "([{":
            depth += 1
        elif character in ")]}":
            depth -= 1
        if character == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += character
    if current.strip():
        parts.append(current.strip())
    return parts


def _field_calls(body: str, nested: bool = False) -> list[list[str]]:
    """The arguments of each `Field::new(...)` in a function body: the top-level ones, or with
    `nested` also those inside another's arguments."""
    calls = []
    position = 0
    while (start := body.find("Field::new(", position)) >= 0:
        depth, index = 0, start + len("Field::new")
        for end in range(index, len(body)):
            depth += {"(": 1, ")": -1}.get(body[end], 0)
            if depth == 0:
                break
        calls.append(_split_arguments(body[index + 1 : end]))
        position = start + 1 if nested else end
    return calls


def athena_type(expression: str, text: str, bindings: dict[str, str]) -> str:
    """The Athena type of an Arrow DataType expression of schemas/src/table.rs."""
    expression = expression.removesuffix(".clone()").strip()
    if expression in bindings:
        return athena_type(bindings[expression], text, bindings)
    consts = dict(re.findall(r"pub const ([A-Z_]+): [ui]\d+ = (-?\d+);", text))
    simple = {
        "DataType::Utf8": "string",
        "DataType::LargeUtf8": "string",
        "DataType::Boolean": "boolean",
        "DataType::Int32": "int",
        "DataType::Int64": "bigint",
        "DataType::Float64": "double",
        "DataType::Date32": "date",
    }
    if expression in simple:
        return simple[expression]
    decimal = re.fullmatch(r"DataType::Decimal128\((\w+),\s*(\w+)\)", expression)
    if decimal:
        precision, scale = (consts.get(part, part) for part in decimal.groups())
        return f"decimal({precision},{scale})"
    call = re.fullmatch(r"(\w+)\(\)", expression)
    if call:
        body = _function_body(text, call.group(1))
        timestamp = re.search(r"DataType::Timestamp\(TimeUnit::(\w+)", body)
        if timestamp and timestamp.group(1) in ("Millisecond", "Microsecond"):
            return "timestamp"
    mapping = re.fullmatch(r"DataType::Map\((\w+)\(\),\s*\w+\)", expression)
    if mapping:
        entries = _field_calls(_function_body(text, mapping.group(1)), nested=True)
        inner = {arguments[0].strip('"'): arguments[1] for arguments in entries}
        if "key" in inner and "value" in inner:
            key = athena_type(inner["key"], text, bindings)
            value = athena_type(inner["value"], text, bindings)
            return f"map<{key},{value}>"
    return f"<no Athena type for {expression}>"


def parquet_columns(root: Path, schema_function: str, names_const: str) -> list[tuple[str, str]]:
    """(column, Athena type) of a schema function of schemas/src/table.rs, in file order."""
    text = (root / "schemas/src/table.rs").read_text()
    names_match = re.search(
        rf"pub const {names_const}: \[&str; \d+\] = \[(.*?)\];", text, re.DOTALL
    )
    names = re.findall(r'"([^"]+)"', names_match.group(1)) if names_match else []
    body = _function_body(text, schema_function)
    bindings = dict(re.findall(r"let (\w+) = (DataType::[^;]+);", body))
    columns = []
    for arguments in _field_calls(body):
        index = re.search(r"\[(\d+)\]$", arguments[0])
        if index and int(index.group(1)) < len(names):
            name = names[int(index.group(1))]
        else:
            name = arguments[0].strip('"')
        columns.append((name, athena_type(arguments[1], text, bindings)))
    return columns


def layout_templates(root: Path) -> dict[str, str]:
    """The prefix templates of schemas/src/layout.rs, with `{}` for the formatted date."""
    text = (root / "schemas/src/layout.rs").read_text()
    templates = {}
    for function in ("events_partition", "invoice_lines_prefix"):
        found = re.search(r'format!\(\s*"([^"]+)"', _function_body(text, function))
        templates[function] = found.group(1) if found else f"<no format! in {function}>"
    return templates


# -- The checks -------------------------------------------------------------------------------------


def check(root: Path) -> list[str]:
    """Every disagreement between infra/ and the code, one line each."""
    root = root.resolve()
    PENDING.clear()
    components = load_components(root)
    stacks = load_stacks(root)
    crates = function_crates(root)
    problems: list[str] = []
    problems += check_stacks(components, stacks)
    problems += check_workflows(root, components, stacks)
    problems += check_functions(root, components, stacks, crates)
    problems += check_tables(root, components, stacks, crates)
    problems += check_stream(root, components, stacks, crates)
    problems += check_glue(root, components, stacks)
    problems += check_one_bucket(components, stacks)
    problems += check_monitoring(root, components)
    problems += check_event_source_mapping(components)
    problems += check_tenants_table(root, components, stacks)
    problems += check_state_machines(root, components, stacks, crates)
    problems += check_admin_api(root, components, stacks, crates)
    problems += check_network(components, stacks)
    problems += check_gitops_agent(root, components, stacks)
    problems += check_tenant_boundary(root, components, stacks)
    problems += check_ledger_lifecycle(root, components)
    return problems


def check_stacks(components: dict[str, Component], stacks: list[Stack]) -> list[str]:
    problems = []
    for stack in stacks:
        names = stack.component_names()
        for name in sorted(set(components) - set(names)):
            problems.append(f"stack {stack.name}: component {name} is not configured")
        for name in names:
            component = components.get(name)
            if component is None:
                problems.append(f"stack {stack.name}: no component directory for {name}")
                continue
            given = stack.vars(name)
            section = stack.manifest["components"]["terraform"][name] or {}
            depends = (section.get("settings") or {}).get("depends_on") or {}
            dependencies = {entry.get("component") for entry in depends.values()}
            for var in sorted(set(given) - set(component.variables)):
                problems.append(
                    f"stack {stack.name}: {name} is given var {var}, which it does not declare"
                )
            for var, body in sorted(component.variables.items()):
                if "default" not in body and var not in given:
                    problems.append(f"stack {stack.name}: {name} needs var {var}, none given")
            for var, value in sorted(given.items()):
                for ref in _state_refs(value):
                    target = components.get(ref.component)
                    if target is None or ref.component not in names:
                        problems.append(
                            f"stack {stack.name}: {name}.{var} reads component {ref.component}, "
                            "which the stack does not have"
                        )
                    elif ref.output not in target.outputs:
                        problems.append(
                            f"stack {stack.name}: {name}.{var} reads output {ref.output} of "
                            f"{ref.component}, which declares no such output"
                        )
                    if ref.component not in dependencies:
                        problems.append(
                            f"stack {stack.name}: {name}.{var} reads {ref.component}, which is "
                            "not in its settings.depends_on"
                        )
        problems += _check_backend(components, stack)
    return problems


def check_workflows(root: Path, components: dict[str, Component], stacks: list[Stack]) -> list[str]:
    """Every atmos workflow of infra/workflows runs every component once, each after the
    components its stack settings say it depends on."""
    problems = []
    for path in sorted((root / "infra/workflows").glob("*.yaml")):
        document = yaml.safe_load(path.read_text()) or {}
        for name, workflow in (document.get("workflows") or {}).items():
            order = [
                step.get("command", "").split()[-1]
                for step in workflow.get("steps", [])
                if step.get("command", "").startswith("terraform ")
            ]
            where = f"infra/workflows/{path.name} {name}"
            if sorted(order) != sorted(components):
                problems.append(
                    f"{where}: runs {sorted(order)}, but the components are {sorted(components)}"
                )
            for stack in stacks:
                sections = stack.manifest.get("components", {}).get("terraform", {})
                for position, component in enumerate(order):
                    depends = (sections.get(component, {}).get("settings") or {}).get("depends_on")
                    for dependency in (depends or {}).values():
                        before = dependency.get("component")
                        if before in order and order.index(before) > position:
                            problems.append(
                                f"{where}: {component} runs before {before}, which it depends on "
                                f"(stack {stack.name})"
                            )
    return problems


def _state_refs(value: Any) -> list[StateRef]:
    if isinstance(value, StateRef):
        return [value]
    if isinstance(value, list):
        return [ref for item in value for ref in _state_refs(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in _state_refs(item)]
    return []


def _check_backend(components: dict[str, Component], stack: Stack) -> list[str]:
    """The backend bucket and key the stack names are the ones tfstate-backend creates."""
    backend = components.get("tfstate-backend")
    if backend is None:
        return ["no tfstate-backend component creates the state bucket"]
    resolver = Resolver(components, stack)
    s3 = stack.manifest.get("terraform", {}).get("backend", {}).get("s3", {})
    expected_bucket = resolver.resolve("tfstate-backend", backend.locals.get("state_bucket"))
    alias = first(backend.resources.get(("aws_kms_alias", "state"), {})).get("name")
    expected_alias = resolver.resolve("tfstate-backend", alias)
    problems = []
    if s3.get("bucket") != expected_bucket:
        problems.append(
            f"stack {stack.name}: backend bucket {s3.get('bucket')!r}, but tfstate-backend "
            f"creates {expected_bucket!r}"
        )
    if s3.get("kms_key_id") != expected_alias:
        problems.append(
            f"stack {stack.name}: backend kms_key_id {s3.get('kms_key_id')!r}, but "
            f"tfstate-backend creates {expected_alias!r}"
        )
    return problems


def lambda_functions(components: dict[str, Component]) -> list[tuple[Component, str, dict]]:
    return [
        (component, name, body)
        for component in components.values()
        for name, body in component.resources_of("aws_lambda_function").items()
    ]


def check_functions(
    root: Path,
    components: dict[str, Component],
    stacks: list[Stack],
    crates: dict[str, dict[str, Any]],
) -> list[str]:
    problems = []
    bins = {binary: crate for crate, info in crates.items() for binary in info["bins"]}
    for crate, info in crates.items():
        if not info["bins"]:
            problems.append(f"functions/{crate} has no [[bin]]: nothing to deploy")
    deployed = set()
    defaults = code_defaults(root, crates)
    for component, resource, body in lambda_functions(components):
        where = f"{component.name}: {address('aws_lambda_function', resource)}"
        for key, expected in (("handler", "bootstrap"), ("runtime", "provided.al2023")):
            if body.get(key) != expected:
                problems.append(f"{where}: {key} is {body.get(key)!r}, not {expected!r}")
        if body.get("architectures") != ["arm64"]:
            problems.append(f"{where}: architectures are {body.get('architectures')}, not arm64")
        package = _package_binary(root, component, body)
        if isinstance(package, str) and package.startswith("<"):
            problems.append(f"{where}: {package}")
            continue
        if package not in bins:
            problems.append(
                f"{where}: package target/lambda/{package}/bootstrap.zip names no binary of a "
                f"crate under functions/ (binaries: {sorted(bins)})"
            )
            continue
        deployed.add(package)
        problems += _check_environment(
            root, components, stacks, defaults, component, where, body, crates[bins[package]]
        )
    for binary in sorted(set(bins) - deployed):
        problems.append(f"functions/{bins[binary]}: binary {binary} has no Lambda component")
    return problems


def _package_binary(root: Path, component: Component, body: dict) -> str:
    filename = body.get("filename", "")
    match = REFERENCE.match(filename)
    if match and match.group(1).startswith("var."):
        filename = component.variables.get(match.group(1)[4:], {}).get("default") or ""
    if not filename:
        return "<no package file>"
    package = (component.directory / filename).resolve()
    lambda_root = (root / "target/lambda").resolve()
    if package.name != "bootstrap.zip" or package.parent.parent != lambda_root:
        return f"<package {filename} is not target/lambda/{{binary}}/bootstrap.zip>"
    return package.parent.name


def _check_environment(
    root: Path,
    components: dict[str, Component],
    stacks: list[Stack],
    defaults: dict[str, set[str]],
    component: Component,
    where: str,
    body: dict,
    crate: dict[str, Any],
) -> list[str]:
    problems = []
    variables = first(body.get("environment")).get("variables")
    if variables != "${local.environment}":
        return [f"{where}: environment variables must be local.environment, not {variables}"]
    required = component.locals.get("environment_required", {})
    optional = component.locals.get("environment_optional", {})
    read = variables_read(root, crate)
    documented = (root / "docs/configuration.md").read_text()
    secrets = {arn: plain for arn, plain in SECRET_ARN_VARIABLES.items() if arn in required}
    replaced = set(secrets.values())
    ahead = {arn for arn, plain in secrets.items() if arn not in read and plain in read}
    for arn in sorted(ahead):
        PENDING.append(
            f"{where}: {arn} stands in for the credentials of {secrets[arn]}, but the code does "
            f"not read it yet: the function cannot use {secrets[arn]} in AWS until it does"
        )
    for name in sorted(read - set(OPTIONAL_VARIABLES) - set(required) - replaced):
        problems.append(f"{where}: the code reads {name}, which the function is not given")
    for name in sorted((set(required) | set(optional)) - read - ahead):
        problems.append(f"{where}: sets {name}, which the code does not read")
    for name in sorted(set(optional) - set(OPTIONAL_VARIABLES)):
        problems.append(f"{where}: {name} is set only when non-empty, but the code needs it")
    for name in sorted((set(required) | set(optional)) - ahead):
        if f"`{name}`" not in documented:
            problems.append(f"{where}: {name} is not documented in docs/configuration.md")
    for stack in stacks:
        resolver = Resolver(components, stack)
        for name, constant in NAME_DEFAULTS.items():
            if name not in required:
                continue
            value = resolver.resolve(component.name, required[name])
            wanted = defaults.get(constant, {f"<no {constant} in the code>"})
            if value not in wanted or len(wanted) != 1:
                problems.append(
                    f"stack {stack.name}: {where}: {name} resolves to {value!r}, but the code's "
                    f"{constant} is {sorted(wanted)}"
                )
        if "TALLY_BUCKET_NAME" in required:
            value = resolver.resolve(component.name, required["TALLY_BUCKET_NAME"])
            if not (isinstance(value, ResourceRef) and value.kind == "aws_s3_bucket"):
                problems.append(
                    f"stack {stack.name}: {where}: TALLY_BUCKET_NAME resolves to {value!r}, "
                    "not to a bucket infra creates"
                )
    return problems


def check_tables(
    root: Path,
    components: dict[str, Component],
    stacks: list[Stack],
    crates: dict[str, dict[str, Any]],
) -> list[str]:
    problems = []
    defaults = code_defaults(root, crates)
    schemas = table_key_schemas(root)
    for constant, source, field_name in CODE_TABLES:
        names = defaults.get(constant)
        if not names:
            continue
        if len(names) != 1:
            problems.append(f"{source}: {constant} has several values {sorted(names)}")
            continue
        (table_name,) = names
        schema = schemas.get((source, field_name))
        if schema is None:
            problems.append(f"{source}: no create_table for the {field_name} table")
            continue
        for stack in stacks:
            problems += _check_table(components, stack, constant, table_name, schema, source)
    return problems


def _check_table(
    components: dict[str, Component],
    stack: Stack,
    constant: str,
    table_name: str,
    schema: tuple[str, str, str],
    source: str,
) -> list[str]:
    resolver = Resolver(components, stack)
    found = [
        (component, body)
        for component in components.values()
        for body in component.resources_of("aws_dynamodb_table").values()
        if resolver.resolve(component.name, body.get("name")) == table_name
    ]
    if len(found) != 1:
        return [
            f"stack {stack.name}: {len(found)} DynamoDB tables named {table_name!r} (the code's "
            f"{constant}); expected one"
        ]
    component, body = found[0]
    attributes = {item.get("name"): item.get("type") for item in body.get("attribute", [])}
    actual = (
        body.get("hash_key"),
        body.get("range_key"),
        ",".join(sorted(set(attributes.values()))),
    )
    if actual != schema or set(attributes) != {schema[0], schema[1]}:
        return [
            f"stack {stack.name}: {component.name}: table {table_name} has keys (hash, range, "
            f"types) {actual} and attributes {sorted(attributes)}, but {source} creates {schema}"
        ]
    return []


def check_stream(
    root: Path,
    components: dict[str, Component],
    stacks: list[Stack],
    crates: dict[str, dict[str, Any]],
) -> list[str]:
    """One default stream name in the code, a Kinesis stream of that name in every stack, and the
    seed's boto3 producer (which takes no configuration) writing to it."""
    names = code_defaults(root, crates).get("DEFAULT_STREAM", set())
    if len(names) != 1:
        return [f"the code's DEFAULT_STREAM constants disagree: {sorted(names)}"]
    (stream,) = names
    problems = []
    for stack in stacks:
        resolver = Resolver(components, stack)
        found = [
            component.name
            for component in components.values()
            for body in component.resources_of("aws_kinesis_stream").values()
            if resolver.resolve(component.name, body.get("name")) == stream
        ]
        if len(found) != 1:
            problems.append(
                f"stack {stack.name}: {len(found)} Kinesis streams named {stream!r} (the code's "
                "DEFAULT_STREAM); expected one"
            )
    example = root / "examples/boto3_producer.py"
    if example.exists():
        used = set(re.findall(r"StreamName\s*=\s*['\"]([^'\"]+)['\"]", example.read_text()))
        if used != {stream}:
            problems.append(
                f"examples/boto3_producer.py writes to {sorted(used)}, not to {stream!r}"
            )
    return problems


GLUE_TABLES = {
    # Glue table: (schema function, column names constant, layout function, date format)
    "usage_events": ("events_schema", "EVENT_COLUMNS", "events_partition", "yyyy-MM-dd"),
    "invoice_lines": ("invoice_lines_schema", "INVOICE_LINE_COLUMNS", "invoice_lines_prefix", "yyyy-MM"),
}


def check_glue(root: Path, components: dict[str, Component], stacks: list[Stack]) -> list[str]:
    problems = []
    tables = {
        name: (component, body)
        for component in components.values()
        for name, body in component.resources_of("aws_glue_catalog_table").items()
    }
    layouts = layout_templates(root)
    for table, (schema_function, names_const, layout_function, date_format) in GLUE_TABLES.items():
        if table not in tables:
            problems.append(f"no Glue table {table} for schemas/src/table.rs {schema_function}")
            continue
        component, body = tables[table]
        where = f"{component.name}: aws_glue_catalog_table.{table}"
        columns = [
            (column.get("name"), column.get("type"))
            for column in first(body.get("storage_descriptor")).get("columns", [])
        ]
        expected = parquet_columns(root, schema_function, names_const)
        if columns != expected:
            problems.append(
                f"{where}: columns {columns} differ from schemas/src/table.rs "
                f"{schema_function} {expected}"
            )
        partitions = [key.get("name") for key in body.get("partition_keys", [])]
        for clash in sorted(set(partitions) & {name for name, _ in columns}):
            problems.append(f"{where}: partition column {clash} is also a data column")
        problems += _check_projection(
            components, stacks, component, where, body, partitions, layouts[layout_function],
            date_format,
        )
    return problems


def _check_projection(
    components: dict[str, Component],
    stacks: list[Stack],
    component: Component,
    where: str,
    body: dict,
    partitions: list[str],
    layout: str,
    date_format: str,
) -> list[str]:
    """The projection template is the layout with the tenant and date partitions in place of its
    tenant id and formatted date, and the date partition has the layout's format."""
    problems = []
    if len(partitions) != 2:
        return [f"{where}: partition keys {partitions}, expected a tenant and a date"]
    tenant, date = partitions
    parameters = body.get("parameters", {})
    if parameters.get(f"projection.{tenant}.type") != "injected":
        problems.append(f"{where}: {tenant} is not projected as injected")
    if parameters.get(f"projection.{date}.format") != date_format:
        problems.append(
            f"{where}: {date} format {parameters.get(f'projection.{date}.format')!r}, but the "
            f"layout writes {date_format}"
        )
    for stack in stacks:
        resolver = Resolver(components, stack)
        template = resolver.render(component.name, parameters.get("storage.location.template"))
        location = resolver.render(
            component.name, first(body.get("storage_descriptor")).get("location")
        )
        bucket = re.match(r"^s3://([^/]+)/", location)
        relative = template.removeprefix(bucket.group(0)) if bucket else template
        as_layout = relative.replace("${" + tenant + "}", "{tenant_id}").replace(
            "${" + date + "}", "{}"
        )
        if not bucket or not template.startswith(bucket.group(0)) or as_layout != layout:
            problems.append(
                f"stack {stack.name}: {where}: projection template {template!r} is not the "
                f"layout {layout!r} of schemas/src/layout.rs under {location!r}"
            )
        if not layout.startswith(location.removeprefix(bucket.group(0)) if bucket else location):
            problems.append(f"stack {stack.name}: {where}: location {location!r} is outside the layout")
    return problems


def check_one_bucket(components: dict[str, Component], stacks: list[Stack]) -> list[str]:
    """The functions write, and the Glue tables read, one and the same bucket."""
    problems = []
    for stack in stacks:
        resolver = Resolver(components, stack)
        buckets: dict[str, str] = {}
        for component, resource, _ in lambda_functions(components):
            value = component.locals.get("environment_required", {}).get("TALLY_BUCKET_NAME")
            if value is not None:
                buckets[f"{component.name} TALLY_BUCKET_NAME"] = resolver.render(component.name, value)
        for component in components.values():
            for table, body in component.resources_of("aws_glue_catalog_table").items():
                location = resolver.render(
                    component.name, first(body.get("storage_descriptor")).get("location")
                )
                bucket = re.match(r"^s3://([^/]+)/", location)
                buckets[f"{component.name} {table}"] = bucket.group(1) if bucket else location
        if len(set(buckets.values())) > 1:
            problems.append(f"stack {stack.name}: not one tenant data bucket: {buckets}")
    return problems


def check_ledger_lifecycle(root: Path, components: dict[str, Component]) -> list[str]:
    """The tenant data bucket expires superseded ledger records early under the prefix the code
    writes them to (schemas/src/layout.rs LEDGER_PREFIX)."""
    ledger = rust_string_consts(root / "schemas/src/layout.rs").get("LEDGER_PREFIX")
    component = components.get("s3-tenant-data")
    if ledger is None or component is None or "bucket" not in component.modules:
        return ["s3-tenant-data: no module bucket, or schemas/src/layout.rs has no LEDGER_PREFIX"]
    _, arguments = component.modules["bucket"]
    prefixes = arguments.get("noncurrent_version_expiration_days_by_prefix") or {}
    keys = {str(key).strip('"') for key in prefixes}
    if ledger not in keys:
        return [
            f"s3-tenant-data: noncurrent ledger versions expire early under {sorted(keys)}, but "
            f"the code writes its ledger under LEDGER_PREFIX {ledger!r}"
        ]
    return []


def check_monitoring(root: Path, components: dict[str, Component]) -> list[str]:
    text = (root / "functions/usage-consumer/src/lib.rs").read_text()
    namespace = rust_string_consts(root / "functions/usage-consumer/src/lib.rs").get(
        "METRICS_NAMESPACE"
    )
    metrics = re.findall(r'\{"Name": "(\w+)", "Unit"', text)
    dimensions = re.findall(r'"Dimensions": \[\["(\w+)"\]\]', text)
    monitoring = components.get("monitoring")
    if monitoring is None:
        return ["no monitoring component for the consumer's EMF figures"]
    problems = []
    if monitoring.locals.get("metrics_namespace") != namespace:
        problems.append(
            f"monitoring: metrics_namespace {monitoring.locals.get('metrics_namespace')!r}, but "
            f"the consumer's METRICS_NAMESPACE is {namespace!r}"
        )
    if monitoring.locals.get("emf_metrics") != metrics:
        problems.append(
            f"monitoring: emf_metrics {monitoring.locals.get('emf_metrics')}, but the consumer "
            f"emits {metrics}"
        )
    if [monitoring.locals.get("emf_dimension")] != dimensions:
        problems.append(
            f"monitoring: emf_dimension {monitoring.locals.get('emf_dimension')!r}, but the "
            f"consumer's EMF dimensions are {dimensions}"
        )
    return problems


def check_event_source_mapping(components: dict[str, Component]) -> list[str]:
    """The settings docs/exactly-once.md relies on."""
    problems = []
    mappings = [
        (component, name, body)
        for component in components.values()
        for name, body in component.resources_of("aws_lambda_event_source_mapping").items()
    ]
    if not mappings:
        return ["no event source mapping feeds the usage stream to the consumer"]
    for component, name, body in mappings:
        where = f"{component.name}: aws_lambda_event_source_mapping.{name}"
        if body.get("parallelization_factor") != 1:
            problems.append(f"{where}: parallelization_factor must be 1 (docs/exactly-once.md)")
        if body.get("function_response_types") != ["ReportBatchItemFailures"]:
            problems.append(f"{where}: function_response_types must be [ReportBatchItemFailures]")
        if body.get("bisect_batch_on_function_error") is not True:
            problems.append(f"{where}: bisect_batch_on_function_error must be true")
        for bounded in ("maximum_retry_attempts", "maximum_record_age_in_seconds"):
            value = body.get(bounded)
            if value is None or value == -1:
                problems.append(f"{where}: {bounded} must be set and bounded")
        on_failure = first(first(body.get("destination_config")).get("on_failure"))
        if not on_failure.get("destination_arn"):
            problems.append(f"{where}: no on-failure destination")
    return problems


# -- The control plane ------------------------------------------------------------------------------

TENANTS_SOURCE = "control-aws/src/tenants.rs"


def tenants_table_code(root: Path) -> tuple[str | None, tuple[str, str, str], str | None]:
    """The tenants table as control-aws/src/tenants.rs creates it: its default name, (partition
    key, sort key, attribute type) of create_table, and the TTL attribute enable_ttl turns on."""
    text = (root / TENANTS_SOURCE).read_text()
    consts = rust_string_consts(root / TENANTS_SOURCE)
    body = _function_body(text, "create_table")
    hash_keys = re.findall(r'key\("(\w+)",\s*KeyType::Hash\)', body)
    range_keys = re.findall(r'key\("(\w+)",\s*KeyType::Range\)', body)
    types = sorted(set(re.findall(r"ScalarAttributeType::([A-Z])\b", body)))
    schema = (
        hash_keys[0] if len(hash_keys) == 1 else f"<partition keys {hash_keys}>",
        range_keys[0] if len(range_keys) == 1 else f"<sort keys {range_keys}>",
        types[0] if len(types) == 1 else f"<attribute types {types}>",
    )
    ttl = re.search(r'\.attribute_name\((?:"([^"]+)"|(\w+))\)', _function_body(text, "enable_ttl"))
    ttl_attribute = (ttl.group(1) or consts.get(ttl.group(2))) if ttl else None
    return consts.get("DEFAULT_TENANTS_TABLE"), schema, ttl_attribute


def check_tenants_table(
    root: Path, components: dict[str, Component], stacks: list[Stack]
) -> list[str]:
    """One DynamoDB table per stack named as the code's DEFAULT_TENANTS_TABLE, with its keys and
    its TTL on the attribute the code's idempotency keys expire by."""
    name, schema, ttl_attribute = tenants_table_code(root)
    if name is None:
        return [f"{TENANTS_SOURCE}: no DEFAULT_TENANTS_TABLE"]
    if ttl_attribute is None:
        return [f"{TENANTS_SOURCE}: enable_ttl names no TTL attribute"]
    problems = []
    for stack in stacks:
        found = _check_table(
            components, stack, "DEFAULT_TENANTS_TABLE", name, schema, TENANTS_SOURCE
        )
        problems += found
        if found:
            continue
        resolver = Resolver(components, stack)
        for component in components.values():
            for table, body in component.resources_of("aws_dynamodb_table").items():
                if resolver.resolve(component.name, body.get("name")) != name:
                    continue
                ttl = first(body.get("ttl"))
                if ttl.get("attribute_name") != ttl_attribute or ttl.get("enabled") is not True:
                    problems.append(
                        f"stack {stack.name}: {component.name}: table {name} has TTL {ttl}, but "
                        f"{TENANTS_SOURCE} expires items by {ttl_attribute!r}"
                    )
    return problems


ASL_TEST = "tenancy/src/state_machine/tests.rs"
ASL_GENERATOR = "tenancy/src/state_machine.rs"
TEMPLATEFILE = re.compile(
    r'^\$\{templatefile\("\$\{path\.module\}/([^"]+)",\s*\{(.*)\}\)\}$', re.DOTALL
)
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def committed_definitions(root: Path) -> tuple[Path, list[str], str]:
    """Where tally-tenancy's test keeps the generated definitions equal to the generator: the
    directory, the file names, and the template variable the definitions hold the function in."""
    text = (root / ASL_TEST).read_text()
    directory = re.search(r'\.join\("\.\./([^"]+)"\)', text)
    names = re.findall(r'\("([\w.-]+\.asl\.json)",', text)
    variable = rust_string_consts(root / ASL_GENERATOR).get("FUNCTION_ARN_VARIABLE", "")
    return (root / directory.group(1)).resolve() if directory else root, names, variable


def _template_arguments(text: str) -> dict[str, str]:
    """`{ a = var.x, b = local.y }` of a templatefile call, each value as `${expression}`."""
    return {
        key: "${" + value.strip() + "}"
        for key, value in re.findall(r"(\w+)\s*=\s*([^,}]+)", text)
    }


def _tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every Task state, with those inside Parallel branches and Map iterators."""
    tasks = []
    for name, state in states.items():
        if state.get("Type") == "Task":
            tasks.append((name, state))
        for branch in state.get("Branches", []):
            tasks += _tasks(branch.get("States", {}))
        for inner in ("Iterator", "ItemProcessor"):
            if inner in state:
                tasks += _tasks(state[inner].get("States", {}))
    return tasks


def _lambda_of(root: Path, components: dict[str, Component], value: Any) -> str | None:
    """The binary of the Lambda function an ARN resolves to, if it resolves to one."""
    if not (isinstance(value, ResourceRef) and value.kind == "aws_lambda_function"):
        return None
    component = components[value.component]
    body = component.resources.get(("aws_lambda_function", value.name), {})
    return _package_binary(root, component, body)


def check_state_machines(
    root: Path,
    components: dict[str, Component],
    stacks: list[Stack],
    crates: dict[str, dict[str, Any]],
) -> list[str]:
    directory, names, variable = committed_definitions(root)
    if not names or not variable.startswith("${"):
        return [f"{ASL_TEST}, {ASL_GENERATOR}: no committed definitions or template variable found"]
    variable_name = variable[2:-1]
    problems: list[str] = []
    machines = [
        (component, name, body)
        for component in components.values()
        for name, body in component.resources_of("aws_sfn_state_machine").items()
    ]
    used: list[str] = []
    files_by_machine: dict[tuple[str, str], str] = {}
    for component, name, body in machines:
        where = f"{component.name}: aws_sfn_state_machine.{name}"
        match = TEMPLATEFILE.match(str(body.get("definition", "")))
        if not match:
            problems.append(
                f"{where}: definition is not templatefile(\"${{path.module}}/…\", {{…}}) of a "
                "committed ASL file"
            )
            continue
        file_name, arguments = match.group(1), _template_arguments(match.group(2))
        if component.directory.resolve() != directory or file_name not in names:
            problems.append(
                f"{where}: definition {component.directory.name}/{file_name} is not one of the "
                f"committed ASL files {names} of {directory.relative_to(root)} ({ASL_TEST})"
            )
            continue
        used.append(file_name)
        files_by_machine[(component.name, name)] = file_name
        definition = (directory / file_name).read_text()
        placeholders = set(re.findall(r"(?<!\$)\$\{(\w+)\}", definition))
        if set(arguments) != {variable_name} or placeholders != {variable_name}:
            problems.append(
                f"{where}: template variables {sorted(arguments)}, but {file_name} holds "
                f"{sorted(placeholders)} and {ASL_GENERATOR} FUNCTION_ARN_VARIABLE is {variable}"
            )
            continue
        problems += _check_tasks(file_name, definition, variable)
        problems += _check_workflow_role(component, where, body, arguments[variable_name])
        for stack in stacks:
            invoked = Resolver(components, stack).resolve(component.name, arguments[variable_name])
            binary = _lambda_of(root, components, invoked)
            if binary != ONBOARDING_BINARY or getattr(invoked, "attribute", None) != "arn":
                problems.append(
                    f"stack {stack.name}: {where}: {variable_name} resolves to {invoked!r}, not "
                    f"the ARN of the {ONBOARDING_BINARY} Lambda"
                )
    if sorted(used) != sorted(names) and not problems:
        problems.append(f"the state machines use {sorted(used)}, but the committed files are {sorted(names)}")
    problems += _check_state_machine_variables(components, stacks, files_by_machine)
    return problems


def _check_tasks(file_name: str, definition: str, variable: str) -> list[str]:
    """Every Task invokes the function through the template variable, and only through it."""
    problems = []
    document = json.loads(definition)
    tasks = _tasks(document.get("States", {}))
    if not tasks:
        problems.append(f"{file_name}: no Task state")
    for name, state in tasks:
        resource = state.get("Resource")
        function = (state.get("Parameters") or {}).get("FunctionName")
        if resource in (LAMBDA_INVOKE, f"{LAMBDA_INVOKE}.waitForTaskToken") and function == variable:
            continue
        if resource == variable and function is None:
            continue
        problems.append(
            f"{file_name}: Task {name} has Resource {resource!r} and FunctionName {function!r}, "
            f"not the onboarding function {variable}"
        )
    return problems


def _check_workflow_role(
    component: Component, where: str, body: dict[str, Any], function: str
) -> list[str]:
    """The state machine's role may invoke the onboarding function (or its versions) and no
    other function, and has no managed policy."""
    role = REFERENCE.match(str(body.get("role_arn", "")))
    parts = role.group(1).split(".") if role else []
    if len(parts) != 3 or parts[0] != "aws_iam_role" or parts[2] != "arn":
        return [f"{where}: role_arn {body.get('role_arn')!r} is not a role of the component"]
    role_name = parts[1]
    problems = []
    allowed = {function, function[:-1] + "}:*"}
    for kind in ("aws_iam_role_policy_attachment", "aws_iam_role_policy"):
        for name, attached in component.resources_of(kind).items():
            if f"aws_iam_role.{role_name}." not in str(attached.get("role")):
                continue
            if kind == "aws_iam_role_policy_attachment":
                problems.append(f"{where}: the role also holds {attached.get('policy_arn')}")
                continue
            document = REFERENCE.match(str(attached.get("policy")))
            doc_parts = document.group(1).split(".") if document else []
            statements = first(
                component.data.get(("aws_iam_policy_document", doc_parts[2] if len(doc_parts) == 4 else ""))
            ).get("statement") if len(doc_parts) == 4 else None
            if statements is None:
                problems.append(f"{where}: cannot read the role's policy {attached.get('policy')!r}")
                continue
            for statement in statements:
                actions = statement.get("actions", [])
                if statement.get("effect", "Allow") != "Allow":
                    continue
                if not any(action == "*" or action.startswith("lambda:") for action in actions):
                    continue
                resources = statement.get("resources", [])
                if set(actions) != {"lambda:InvokeFunction"} or not set(resources) <= allowed:
                    problems.append(
                        f"{where}: the role may {actions} on {resources}, not only "
                        f"lambda:InvokeFunction on the onboarding function {function}"
                    )
    return problems


def _check_state_machine_variables(
    components: dict[str, Component],
    stacks: list[Stack],
    files_by_machine: dict[tuple[str, str], str],
) -> list[str]:
    """A function given a state machine's ARN is given the one made from that workflow's file."""
    problems = []
    for component, resource, _ in lambda_functions(components):
        required = component.locals.get("environment_required", {})
        for variable, file_name in STATE_MACHINE_VARIABLES.items():
            if variable not in required:
                continue
            for stack in stacks:
                value = Resolver(components, stack).resolve(component.name, required[variable])
                found = (
                    files_by_machine.get((value.component, value.name))
                    if isinstance(value, ResourceRef)
                    and value.kind == "aws_sfn_state_machine"
                    and value.attribute == "arn"
                    else None
                )
                if found != file_name:
                    problems.append(
                        f"stack {stack.name}: {component.name}: {variable} resolves to {value!r}, "
                        f"not the ARN of the state machine made from {file_name}"
                    )
    return problems


ROUTES_SOURCE = "functions/tenant-management/src/routes.rs"
ADMIN_GROUP_SOURCE = "auth/src/lib.rs"


def admin_routes_code(root: Path) -> set[str]:
    """`METHOD /path` of every route of the admin API's route table (ROUTES)."""
    text = (root / ROUTES_SOURCE).read_text()
    consts = dict(re.findall(r'const ([A-Z0-9_]+): &str = "([^"]*)";', text))
    table = re.search(r"pub const ROUTES: &\[Route\] = &\[(.*?)\n\];", text, re.DOTALL)
    routes = set()
    for method, literal, constant in re.findall(
        r'route\(\s*"([A-Z]+)",\s*(?:"([^"]*)"|([A-Z0-9_]+)),', table.group(1) if table else ""
    ):
        routes.add(f"{method} {literal or consts.get(constant, f'<{constant}>')}")
    return routes


def _route_keys(component: Component, body: dict[str, Any]) -> list[str]:
    """The route keys of a route resource: its route_key, or each of the for_each local list."""
    key = body.get("route_key")
    each = re.fullmatch(r"\$\{toset\(local\.(\w+)\)\}", str(body.get("for_each", "")))
    if key == "${each.value}" and each:
        return list(component.locals.get(each.group(1), []))
    return [key] if isinstance(key, str) else []


def check_admin_api(
    root: Path,
    components: dict[str, Component],
    stacks: list[Stack],
    crates: dict[str, dict[str, Any]],
) -> list[str]:
    """The HTTP API routes exactly the admin route table to the tenant-management Lambda, behind
    a JWT authorizer whose audience is the app client the function checks, in the user pool that
    holds the admin group."""
    expected = admin_routes_code(root)
    admin = [
        (component, body)
        for component, _, body in lambda_functions(components)
        if _package_binary(root, component, body) == ADMIN_API_BINARY
    ]
    if not expected:
        return [f"{ROUTES_SOURCE}: no ROUTES found"]
    if len(admin) != 1:
        return [f"{len(admin)} Lambda components deploy {ADMIN_API_BINARY}; expected one"]
    function_component, _ = admin[0]
    required = function_component.locals.get("environment_required", {})
    admin_group = rust_string_consts(root / ADMIN_GROUP_SOURCE).get("ADMIN_GROUP")
    problems = []
    for stack in stacks:
        resolver = Resolver(components, stack)
        routed: list[str] = []
        for component in components.values():
            for name, integration in component.resources_of("aws_apigatewayv2_integration").items():
                target = resolver.resolve(component.name, integration.get("integration_uri"))
                if not (
                    isinstance(target, ResourceRef)
                    and target.component == function_component.name
                    and target.kind == "aws_lambda_function"
                    and target.attribute == "invoke_arn"
                ):
                    continue
                for route_name, route in component.resources_of("aws_apigatewayv2_route").items():
                    if route.get("target") != f"integrations/${{aws_apigatewayv2_integration.{name}.id}}":
                        continue
                    keys = _route_keys(component, route)
                    routed += keys
                    problems += _check_admin_authorizer(
                        component, stack, resolver, route_name, route,
                        required.get("TALLY_APP_CLIENT_ID"), function_component.name,
                    )
        if set(routed) != expected:
            problems.append(
                f"stack {stack.name}: the HTTP API routes {sorted(set(routed) - expected)} to "
                f"{ADMIN_API_BINARY}, which {ROUTES_SOURCE} does not serve, and misses "
                f"{sorted(expected - set(routed))}, which it does"
            )
        elif len(routed) != len(expected):
            problems.append(f"stack {stack.name}: an admin route is routed twice: {sorted(routed)}")
        pool = resolver.resolve(function_component.name, required.get("TALLY_USER_POOL_ID"))
        if isinstance(pool, ResourceRef) and pool.kind == "aws_cognito_user_pool":
            groups = [
                group.get("name")
                for group in components[pool.component].resources_of("aws_cognito_user_group").values()
                if group.get("user_pool_id") == f"${{aws_cognito_user_pool.{pool.name}.id}}"
            ]
            if admin_group not in groups:
                problems.append(
                    f"stack {stack.name}: {pool.component}: the user pool {pool.name} has groups "
                    f"{groups}, not {ADMIN_GROUP_SOURCE} ADMIN_GROUP {admin_group!r}"
                )
    return problems


def _check_admin_authorizer(
    component: Component,
    stack: Stack,
    resolver: Resolver,
    route_name: str,
    route: dict[str, Any],
    app_client: Any,
    function_component: str,
) -> list[str]:
    where = f"stack {stack.name}: {component.name}: aws_apigatewayv2_route.{route_name}"
    reference = re.fullmatch(r"\$\{aws_apigatewayv2_authorizer\.(\w+)\.id\}", str(route.get("authorizer_id")))
    if route.get("authorization_type") != "JWT" or not reference:
        return [f"{where}: admin routes need a JWT authorizer of the component"]
    authorizer = component.resources.get(("aws_apigatewayv2_authorizer", reference.group(1)), {})
    audience = first(authorizer.get("jwt_configuration")).get("audience")
    audience = audience if isinstance(audience, list) else [audience]
    resolved = [resolver.resolve(component.name, item) for item in audience]
    wanted = resolver.resolve(function_component, app_client)
    if app_client is None or resolved != [wanted]:
        return [
            f"{where}: the authorizer's audience resolves to {resolved}, but {function_component}'s "
            f"TALLY_APP_CLIENT_ID to {wanted!r}"
        ]
    return []


# -- The network ------------------------------------------------------------------------------------

NETWORK_COMPONENT = "network"
# Which output of the network component each network variable of a component must come from.
NETWORK_VARIABLES = {"vpc_id": "vpc_id", "subnet_ids": "private_subnet_ids"}


def _origin(components: dict[str, Component], stack: Stack, component: str, var: str) -> Any:
    """Where a var's value comes from: following `!terraform.state` references through outputs
    that only pass a var of theirs on, the (component, output) that makes it, or the literal."""
    for _ in range(20):
        value = stack.vars(component).get(var)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], StateRef):
            value = value[0]
        if not isinstance(value, StateRef):
            return value
        expression = components.get(value.component, Component("", Path())).outputs.get(value.output)
        passed = re.fullmatch(r"\$\{var\.(\w+)\}", str(expression))
        if not passed:
            return (value.component, value.output)
        component, var = value.component, passed.group(1)
    return None


def check_network(components: dict[str, Component], stacks: list[Stack]) -> list[str]:
    """Every component placed in the VPC gets the network component's VPC and private subnets."""
    if NETWORK_COMPONENT not in components:
        return [f"no {NETWORK_COMPONENT} component creates the VPC"]
    problems = []
    for stack in stacks:
        for name in stack.component_names():
            component = components.get(name)
            for var, output in NETWORK_VARIABLES.items():
                if component is None or var not in component.variables or name == NETWORK_COMPONENT:
                    continue
                origin = _origin(components, stack, name, var)
                if origin != (NETWORK_COMPONENT, output):
                    problems.append(
                        f"stack {stack.name}: {name}.{var} is {origin!r}, not the "
                        f"{NETWORK_COMPONENT} component's {output}"
                    )
    return problems


# -- The platform: the GitOps agent and the tenant roles' boundary ----------------------------------

MANIFESTS_SOURCE = "control-aws/src/manifests.rs"
TENANT_MANIFESTS_SOURCE = "tenancy/src/manifests.rs"
IAM_NAMES_SOURCE = "control-aws/src/names.rs"
TENANT_TAG_SOURCE = "tenancy/src/policy.rs"
# The files kustomize-controller builds a kustomization of when a directory has none (fluxcd/pkg
# kustomize generator): the agent applies no other.
GITOPS_MANIFEST_SUFFIXES = (".yaml", ".yml")
BOUNDARY_VARIABLE = "TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN"
# The managed policy the code's docs and the runbook name as the tenant roles' boundary.
BOUNDARY_POLICY_NAME = "tally-tenant-boundary"
# What a permissions boundary of a tenant role may allow at most.
BOUNDARY_SERVICES = ("s3:", "dynamodb:", "kms:")


def policy_statements(component: Component, reference: Any) -> list[dict[str, Any]]:
    """The statements of the policy document `${data.aws_iam_policy_document.X.json}` or
    `${module.M.json}` names, with those of its source_policy_documents, in terms of `component`
    (a module's vars replaced by the call's arguments)."""
    match = REFERENCE.match(str(reference))
    parts = match.group(1).split(".") if match else []
    if len(parts) == 4 and parts[:2] == ["data", "aws_iam_policy_document"] and parts[3] == "json":
        body = component.data.get(("aws_iam_policy_document", parts[2]), {})
        statements: list[dict[str, Any]] = []
        for source in body.get("source_policy_documents") or []:
            statements += policy_statements(component, source)
        return statements + list(body.get("statement") or [])
    if len(parts) == 3 and parts[0] == "module" and parts[1] in component.modules:
        module, arguments = component.modules[parts[1]]
        values = {
            name: arguments[name] if name in arguments else body.get("default")
            for name, body in module.variables.items()
        }
        return substitute_vars(policy_statements(module, module.outputs.get(parts[2])), values)
    return []


def _allowed(statement: dict[str, Any]) -> bool:
    return statement.get("effect", "Allow") == "Allow"


def _object_key(rendered: str) -> str | None:
    """The key pattern of a rendered S3 object ARN (a bucket ARN holds no `/`)."""
    return rendered.split("/", 1)[1] if "/" in rendered else None


def _listed_prefixes(resolver: Resolver, component: str, statement: dict[str, Any]) -> list[str]:
    """The s3:prefix values a statement's conditions allow a listing, rendered."""
    return [
        resolver.render(component, value)
        for condition in statement.get("condition", [])
        if condition.get("variable") == "s3:prefix"
        for value in condition.get("values", [])
    ]


def _onboarding(root: Path, components: dict[str, Component]) -> list[Component]:
    return [
        component
        for component, _, body in lambda_functions(components)
        if _package_binary(root, component, body) == ONBOARDING_BINARY
    ]


def _role_statements(component: Component) -> list[dict[str, Any]]:
    """The statements a Lambda component gives its function's role (its module's policy_json)."""
    statements = []
    for _, arguments in component.modules.values():
        if "policy_json" in arguments:
            statements += policy_statements(component, arguments["policy_json"])
    return statements


def manifest_file_names(root: Path) -> list[str]:
    """The file names tally-tenancy's manifests() gives a tenant's manifests."""
    body = _function_body((root / TENANT_MANIFESTS_SOURCE).read_text(), "manifests")
    return re.findall(r'"([\w.-]+\.[a-z]+)"\.to_owned\(\)', body)


def check_gitops_agent(
    root: Path, components: dict[str, Component], stacks: list[Stack]
) -> list[str]:
    prefix = rust_string_consts(root / MANIFESTS_SOURCE).get("MANIFESTS_PREFIX")
    if prefix is None:
        return [f"{MANIFESTS_SOURCE}: no MANIFESTS_PREFIX"]
    names = manifest_file_names(root)
    unapplied = [name for name in names if not name.endswith(GITOPS_MANIFEST_SUFFIXES)]
    problems = []
    if not names:
        problems.append(f"{TENANT_MANIFESTS_SOURCE}: no manifest file names found in manifests()")
    if unapplied:
        problems.append(
            f"{TENANT_MANIFESTS_SOURCE}: DeployApp writes {unapplied}, but the GitOps agent's "
            f"kustomize-controller builds its kustomization of {list(GITOPS_MANIFEST_SUFFIXES)} "
            "files only, so it would apply none of them (JSON is YAML: name them *.yaml)"
        )
    agents = [
        (component, name, body, {item.get("name"): item.get("value") for item in body.get("set", [])})
        for component in components.values()
        for name, body in component.resources_of("helm_release").items()
        if any(item.get("name") == "bucket.prefix" for item in body.get("set", []))
    ]
    if not agents:
        return problems + [
            f"no helm_release gives a Flux Bucket source bucket.prefix: nothing applies {prefix}"
        ]
    writers = _onboarding(root, components)
    for component, name, body, values in agents:
        where = f"{component.name}: helm_release.{name}"
        problems += _check_chart(component, where, body)
        problems += _check_reader(components, component, stacks, prefix)
        for stack in stacks:
            resolver = Resolver(components, stack)
            synced = resolver.resolve(component.name, values.get("bucket.prefix"))
            if synced != prefix:
                problems.append(
                    f"stack {stack.name}: {where} syncs bucket prefix {synced!r}, but "
                    f"{MANIFESTS_SOURCE} MANIFESTS_PREFIX is {prefix!r}"
                )
            bucket = resolver.resolve(component.name, values.get("bucket.name"))
            for writer in writers:
                written = resolver.resolve(
                    writer.name, writer.locals.get("environment_required", {}).get("TALLY_BUCKET_NAME")
                )
                if bucket != written:
                    problems.append(
                        f"stack {stack.name}: {where} syncs bucket {bucket!r}, but {writer.name} "
                        f"writes the manifests to {written!r}"
                    )
    for writer in writers:
        problems += _check_writer(components, writer, stacks, prefix)
    return problems


def _check_chart(component: Component, where: str, body: dict[str, Any]) -> list[str]:
    """The release's chart (in the component) has a Bucket source whose prefix is the value."""
    chart = re.fullmatch(r"\$\{path\.module\}/(.+)", str(body.get("chart")))
    directory = component.directory / chart.group(1) if chart else None
    templates = sorted(directory.glob("templates/*.yaml")) if directory else []
    for template in templates:
        text = template.read_text()
        if re.search(r"^kind:\s*Bucket\s*$", text, re.MULTILINE):
            if re.search(r"^\s*prefix:.*\.Values\.bucket\.prefix\b", text, re.MULTILINE):
                return []
            return [f"{where}: the Bucket source of {template.relative_to(component.directory)} has no prefix from bucket.prefix"]
    return [f"{where}: no Bucket source among the templates of the chart {body.get('chart')!r}"]


def _check_reader(
    components: dict[str, Component], component: Component, stacks: list[Stack], prefix: str
) -> list[str]:
    """The roles the component gives pods through Pod Identity read the prefix and nothing else."""
    problems = []
    roles = {
        REFERENCE.match(str(body.get("role_arn"))).group(1).split(".")[1]
        for body in component.resources_of("aws_eks_pod_identity_association").values()
        if REFERENCE.match(str(body.get("role_arn")))
    }
    for role in sorted(roles):
        for policy_name, policy in component.resources_of("aws_iam_role_policy").items():
            if f"aws_iam_role.{role}." not in str(policy.get("role")):
                continue
            where = f"{component.name}: aws_iam_role.{role}"
            for stack in stacks:
                resolver = Resolver(components, stack)
                for statement in policy_statements(component, policy.get("policy")):
                    problems += _check_reader_statement(resolver, component, where, statement, prefix, stack)
    return problems


def _check_reader_statement(
    resolver: Resolver,
    component: Component,
    where: str,
    statement: dict[str, Any],
    prefix: str,
    stack: Stack,
) -> list[str]:
    if not _allowed(statement):
        return []
    actions = statement.get("actions", [])
    problems = []
    for action in actions:
        if action not in ("s3:GetObject", "s3:ListBucket", "kms:Decrypt"):
            problems.append(f"stack {stack.name}: {where} may {action}; the agent only reads")
    if "s3:GetObject" in actions:
        for resource in statement.get("resources", []):
            key = _object_key(resolver.render(component.name, resource))
            if key is None or not (key.startswith(prefix) or key == ".sourceignore"):
                problems.append(
                    f"stack {stack.name}: {where} may s3:GetObject {key!r}, outside {prefix!r}"
                )
    if "s3:ListBucket" in actions:
        listed = _listed_prefixes(resolver, component.name, statement)
        if not listed or not all(value.startswith(prefix) for value in listed):
            problems.append(
                f"stack {stack.name}: {where} may list prefixes {listed}, not only {prefix!r}"
            )
    return problems


def _check_writer(
    components: dict[str, Component], writer: Component, stacks: list[Stack], prefix: str
) -> list[str]:
    """The onboarding function may write the manifests where the agent reads them."""
    problems = []
    for stack in stacks:
        resolver = Resolver(components, stack)
        keys = [
            _object_key(resolver.render(writer.name, resource))
            for statement in _role_statements(writer)
            if _allowed(statement) and "s3:PutObject" in statement.get("actions", [])
            for resource in statement.get("resources", [])
        ]
        if f"{prefix}*" not in keys:
            problems.append(
                f"stack {stack.name}: {writer.name}: the onboarding function may not write "
                f"{prefix}* (it may write {sorted(key for key in keys if key)})"
            )
    return problems


def check_tenant_boundary(
    root: Path, components: dict[str, Component], stacks: list[Stack]
) -> list[str]:
    tenant_path = rust_string_consts(root / IAM_NAMES_SOURCE).get("IAM_PATH", "<no IAM_PATH>")
    tag = rust_string_consts(root / TENANT_TAG_SOURCE).get("TENANT_TAG", "<no TENANT_TAG>")
    tenant_prefix = f"tenants/${{aws:PrincipalTag/{tag}}}/"
    problems = []
    for writer in _onboarding(root, components):
        required = writer.locals.get("environment_required", {})
        if BOUNDARY_VARIABLE not in required:
            continue
        where = f"{writer.name}: {BOUNDARY_VARIABLE}"
        for stack in stacks:
            resolver = Resolver(components, stack)
            boundary = resolver.resolve(writer.name, required[BOUNDARY_VARIABLE])
            if not (
                isinstance(boundary, ResourceRef)
                and boundary.kind == "aws_iam_policy"
                and boundary.attribute == "arn"
            ):
                problems.append(f"stack {stack.name}: {where} resolves to {boundary!r}, not a policy's ARN")
                continue
            policy = components[boundary.component].resources.get(("aws_iam_policy", boundary.name), {})
            name = resolver.resolve(boundary.component, policy.get("name"))
            path = resolver.resolve(boundary.component, policy.get("path", "/"))
            if name != BOUNDARY_POLICY_NAME:
                problems.append(
                    f"stack {stack.name}: {where} resolves to the policy {name!r}, not {BOUNDARY_POLICY_NAME}"
                )
            if isinstance(path, str) and path.startswith(tenant_path):
                problems.append(
                    f"stack {stack.name}: {boundary.component}: the boundary's path {path!r} is under "
                    f"{IAM_NAMES_SOURCE} IAM_PATH {tenant_path!r}, where the onboarding function may "
                    "delete and attach policies"
                )
            statements = policy_statements(components[boundary.component], policy.get("policy"))
            for statement in filter(_allowed, statements):
                problems += _check_boundary_statement(
                    resolver, boundary.component, stack, statement, tenant_prefix
                )
            problems += _check_role_creation(resolver, writer, stack, required[BOUNDARY_VARIABLE])
    return problems


def _check_boundary_statement(
    resolver: Resolver, component: str, stack: Stack, statement: dict[str, Any], tenant_prefix: str
) -> list[str]:
    """A boundary statement allows S3, DynamoDB and KMS only, objects and listings only of the
    tenant's prefix."""
    where = f"stack {stack.name}: {component}: the tenant boundary's {statement.get('sid')}"
    actions = statement.get("actions", [])
    problems = [
        f"{where} allows {action}, outside {list(BOUNDARY_SERVICES)}"
        for action in actions
        if not action.startswith(BOUNDARY_SERVICES) or action.endswith(":*")
    ]
    if any(action.startswith("s3:") and action != "s3:ListBucket" for action in actions):
        for resource in statement.get("resources", []):
            key = _object_key(resolver.render(component, resource))
            if key is None or not key.startswith(tenant_prefix):
                problems.append(f"{where} allows objects {key!r}, outside {tenant_prefix!r}")
    if "s3:ListBucket" in actions:
        listed = _listed_prefixes(resolver, component, statement)
        if not listed or not all(value.startswith(tenant_prefix) for value in listed):
            problems.append(f"{where} allows listing {listed}, not only {tenant_prefix!r}")
    return problems


ROLE_BOUNDARY_ACTIONS = ("iam:CreateRole", "iam:PutRolePermissionsBoundary")


def _check_role_creation(
    resolver: Resolver, writer: Component, stack: Stack, boundary: str
) -> list[str]:
    """The function's role creates tenant roles, and bounds them, only with the boundary, and
    never removes a boundary."""
    problems = []
    wanted = resolver.resolve(writer.name, boundary)
    for statement in filter(_allowed, _role_statements(writer)):
        actions = statement.get("actions", [])
        where = f"stack {stack.name}: {writer.name}: statement {statement.get('sid')}"
        if any(action in ("*", "iam:*", "iam:DeleteRolePermissionsBoundary") for action in actions):
            problems.append(f"{where} may remove a tenant role's boundary ({actions})")
        bounded = [
            [resolver.resolve(writer.name, value) for value in condition.get("values", [])]
            for condition in statement.get("condition", [])
            if condition.get("test") == "StringEquals"
            and condition.get("variable") == "iam:PermissionsBoundary"
        ]
        for action in actions:
            if action in ROLE_BOUNDARY_ACTIONS and [wanted] not in bounded:
                problems.append(
                    f"{where} allows {action} without iam:PermissionsBoundary equal to "
                    f"{BOUNDARY_VARIABLE} ({wanted!r})"
                )
    return problems


def main(arguments: list[str]) -> int:
    root = Path(arguments[0]) if arguments else Path(__file__).resolve().parents[2]
    problems = check(root)
    for pending in PENDING:
        print(f"pending: {pending}", file=sys.stderr)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} disagreements between infra/ and the code", file=sys.stderr)
        return 1
    print("infra/ agrees with the code")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
