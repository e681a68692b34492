{#- Money: exact decimal with cents, the same on every warehouse. -#}
{% macro shop_type_money() %}{{ return(adapter.dispatch('shop_type_money', 'shopseg')()) }}{% endmacro %}
{% macro default__shop_type_money() %}{{ return('decimal(18, 2)') }}{% endmacro %}

{#-
    A float amount as money, rounded to cents from its shortest decimal text: 1.005 is 1.01
    everywhere. A direct cast rounds the binary value (1.00499...): 1.00 on DuckDB, while
    Postgres rounds its 15-digit text, 1.01.
-#}
{% macro shop_cast_money(column) -%}
    cast(cast({{ column }} as {{ dbt.type_string() }}) as {{ shop_type_money() }})
{%- endmacro %}

{#-
    A 64-bit float for measurements and ratios. dbt.type_float() is `float`: 64-bit on
    Postgres, but 32-bit on DuckDB (1234567.89 becomes 1234567.875).
-#}
{% macro shop_type_double() %}{{ return(adapter.dispatch('shop_type_double', 'shopseg')()) }}{% endmacro %}
{% macro default__shop_type_double() %}{{ return(dbt.type_float()) }}{% endmacro %}
{% macro duckdb__shop_type_double() %}{{ return('double') }}{% endmacro %}
{% macro spark__shop_type_double() %}{{ return('double') }}{% endmacro %}

{#-
    The input contract of one table, read from the `shopseg` source's YAML (its one home,
    models/staging/shop/_shop__sources.yml): a list of {name, kind, type, required} in the
    YAML's order. Kinds: text, integer, number, timestamp. Only at execution time: the
    parse does not need it.
-#}
{% macro shop_contract(table_name) %}
    {%- set node = graph.sources.get('source.shopseg.shopseg.' ~ table_name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: the input contract of table '" ~ table_name ~ "' is not in the graph "
            ~ "(source shopseg." ~ table_name ~ ")") }}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- set kind = column.meta.kind -%}
        {%- do columns.append({
            'name': column.name,
            'kind': kind,
            'type': shop_kind_type(kind),
            'required': column.meta.required | default(false),
        }) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}

{#- The warehouse type of a contract kind. -#}
{% macro shop_kind_type(kind) %}
    {%- set types = {
        'text': dbt.type_string(),
        'integer': dbt.type_int(),
        'number': shop_type_double(),
        'timestamp': dbt.type_timestamp(),
    } -%}
    {%- if kind not in types -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: input contract kind '" ~ kind ~ "' is not one of " ~ types.keys() | join(', ')) }}
    {%- endif -%}
    {{ return(types[kind]) }}
{% endmacro %}

{#-
    A source cell as text, trimmed, empty strings as null: ids are text everywhere. An
    integral number written as a float (625.0, the way a float column or a spreadsheet
    writes 625) is the id 625, in every table alike.
-#}
{% macro shop_clean_id(column) -%}
    {{ return(adapter.dispatch('shop_clean_id', 'shopseg')(column)) }}
{%- endmacro %}
{% macro default__shop_clean_id(column) -%}
    nullif(
        regexp_replace(trim(cast({{ column }} as {{ dbt.type_string() }})), '^(-?[0-9]+)[.]0+$', '\1'),
        ''
    )
{%- endmacro %}
{% macro spark__shop_clean_id(column) -%}
    nullif(
        regexp_replace(trim(cast({{ column }} as {{ dbt.type_string() }})), '^(-?[0-9]+)[.]0+$', '$1'),
        ''
    )
{%- endmacro %}

{#-
    A cast that gives null where the value does not convert ('abc' as a number), so bad
    cells are counted in data_quality_issues instead of failing the build. dbt.safe_cast
    is a plain cast on DuckDB and PostgreSQL; DuckDB has try_cast. PostgreSQL (no try_cast)
    reads typed warehouse tables, where the cast cannot fail.
-#}
{% macro shop_safe_cast(column, data_type) -%}
    {{ return(adapter.dispatch('shop_safe_cast', 'shopseg')(column, data_type)) }}
{%- endmacro %}
{% macro default__shop_safe_cast(column, data_type) -%}
    {{ return(dbt.safe_cast(column, data_type)) }}
{%- endmacro %}
{% macro duckdb__shop_safe_cast(column, data_type) -%}
    {{ return('try_cast(' ~ column ~ ' as ' ~ data_type ~ ')') }}
{%- endmacro %}
{#- Spark has try_cast too: null instead of an error whether ANSI mode is on or off. -#}
{% macro spark__shop_safe_cast(column, data_type) -%}
    {{ return('try_cast(' ~ column ~ ' as ' ~ data_type ~ ')') }}
{%- endmacro %}

{#-
    A double rounded to `digits` decimals. Parallel aggregation adds floats in any order, so
    the last bits of a sum or mean can differ between two runs on the same data; published
    figures are rounded so that the same input gives byte-identical tables.
-#}
{% macro shop_round(expression, digits=9) %}
    {{- return(adapter.dispatch('shop_round', 'shopseg')(expression, digits)) -}}
{% endmacro %}
{% macro default__shop_round(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}
{% macro postgres__shop_round(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}
