{#- Column masking of personal data on Snowflake.

    A column is personal data when its yml entry says so:
        - name: email
          config: {meta: {pii: true, masking_policy: email}}
    masking_policy picks the policy: `email` (jo***@example.com), `name` (Jo***) or `hash` (sha2, the default).
    The policies live in <database>.<var governance_schema> and show clear text only to the roles in
    var pii_privileged_roles and to var transformer_role (dbt builds tables and snapshots from the clear
    values; a masked read there would store masked values). Every model and snapshot runs the post-hook
    mask_pii_columns(), which sets the policy on each such column of the relation just built; on-run-start
    creates the policies and keeps their bodies equal to this file. Other engines (DuckDB): no-op. -#}

{% macro masking_policies() -%}
    {{ return({
        'email': mask_email('val'),
        'name': mask_full_name('val'),
        'hash': "sha2(val, 256)",
    }) }}
{%- endmacro %}

{% macro masking_policy_name(kind) -%}
    {{ target.database }}.{{ var('governance_schema') }}.PII_{{ kind | upper }}
{%- endmacro %}

{#- The policy body: clear text for the privileged and the transformer roles, the mask for everyone else. -#}
{% macro masking_policy_body(kind) -%}
    {%- set roles = _quoted_roles(var('pii_privileged_roles') + [var('transformer_role')]) -%}
    case when current_role() in ({{ roles }}) then val else {{ masking_policies()[kind] }} end
{%- endmacro %}

{#- The masking policy of a column (a node column as a dict), or none when it is not personal data. -#}
{% macro column_masking_policy(column) -%}
    {%- set meta = {} -%}
    {%- do meta.update(column.get('meta') or {}) -%}
    {%- do meta.update((column.get('config') or {}).get('meta') or {}) -%}
    {%- if meta.get('pii') is sameas true -%}
        {%- set kind = meta.get('masking_policy', 'hash') -%}
        {%- if kind not in masking_policies() -%}
            {{ exceptions.raise_compiler_error("column " ~ column.name ~ ": unknown masking_policy '" ~ kind ~ "' (one of " ~ (masking_policies().keys() | list | sort | join(', ')) ~ ")") }}
        {%- endif -%}
        {{ return(kind) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- The schema is Terraform's (infra/modules/snowflake: TRANSFORMER may create masking policies there). -#}
{% macro create_masking_policies_ddl() %}
    {%- set statements = [] -%}
    {%- for kind in masking_policies().keys() | sort -%}
        {%- do statements.append('create masking policy if not exists ' ~ masking_policy_name(kind)
            ~ ' as (val varchar) returns varchar -> ' ~ masking_policy_body(kind)) -%}
        {#- IF NOT EXISTS keeps an existing policy: bring its body up to date with this file. -#}
        {%- do statements.append('alter masking policy ' ~ masking_policy_name(kind) ~ ' set body -> '
            ~ masking_policy_body(kind)) -%}
    {%- endfor -%}
    {{ return(statements) }}
{% endmacro %}

{#- ALTER ... SET MASKING POLICY for each personal-data column of a node (FORCE replaces a policy already
    set, as on a snapshot or an incremental model built before). -#}
{% macro masking_policy_ddl(node, relation) %}
    {%- set statements = [] -%}
    {%- for column in node.columns.values() -%}
        {%- set kind = column_masking_policy(column) -%}
        {%- if kind -%}
            {%- do statements.append('alter ' ~ relation_kind(node.config.materialized) ~ ' ' ~ relation
                ~ ' modify column ' ~ column.name ~ ' set masking policy ' ~ masking_policy_name(kind) ~ ' force') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements) }}
{% endmacro %}

{#- on-run-start: the policies, before any model can need them. -#}
{% macro create_masking_policies() %}
    {%- if execute and target.type == 'snowflake' -%}
        {% do run_governance_ddl(create_masking_policies_ddl()) %}
    {%- endif -%}
{% endmacro %}

{#- Post-hook of every model and snapshot. -#}
{% macro mask_pii_columns() %}
    {%- if execute and target.type == 'snowflake' -%}
        {% do run_governance_ddl(masking_policy_ddl(model, this)) %}
    {%- endif -%}
{% endmacro %}

{#- The whole project's masking DDL, for review: dbt run-operation masking_policies_plan --target prod -#}
{% macro masking_policies_plan() %}
    {%- set statements = create_masking_policies_ddl() -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id')
            if node.resource_type in ('model', 'snapshot') and node.package_name == project_name -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- do statements.extend(masking_policy_ddl(node, relation)) -%}
    {%- endfor -%}
    {%- for statement in statements -%}
        {{ log('governance: ' ~ (statement | trim | replace('\n', ' ')) ~ ';', info=true) }}
    {%- endfor -%}
{% endmacro %}
