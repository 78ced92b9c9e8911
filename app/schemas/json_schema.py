"""JSON Schema from the models, shared by the OpenAPI and AsyncAPI documents."""

from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

REF_TEMPLATE = "#/components/schemas/{model}"


class ComponentSchemas(GenerateJsonSchema):
    """Pydantic's generator without per-field titles (the key already names a field)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def component_schemas(
    types: list[tuple[Any, JsonSchemaMode]],
) -> tuple[dict[tuple[Any, JsonSchemaMode], dict], dict[str, dict]]:
    """Each (type, mode)'s schema (a $ref for models) and the component schemas they use."""
    inputs = [(kind, mode, TypeAdapter(kind)) for kind, mode in types]
    schemas, definitions = TypeAdapter.json_schemas(
        inputs, ref_template=REF_TEMPLATE, schema_generator=ComponentSchemas
    )
    return schemas, definitions.get("$defs", {})


def properties(model, mode: JsonSchemaMode = "validation") -> tuple[dict[str, dict], set[str]]:
    """A flat model's properties (for parameters) and which of them are required."""
    schema = model.model_json_schema(mode=mode, schema_generator=ComponentSchemas)
    return schema.get("properties", {}), set(schema.get("required", ()))
