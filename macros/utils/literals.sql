{#- A validated timestamp literal from a var: vars never reach SQL unchecked. -#}
{% macro shop_timestamp_literal(value) %}
    {%- set text = value | string | trim -%}
    {%- set pattern = '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$' -%}
    {%- if not modules.re.match(pattern, text) -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_as_of = '" ~ text ~ "' is not a date or timestamp "
            ~ "(expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)") }}
    {%- endif -%}
    {{ return("cast('" ~ text | replace('T', ' ') ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}

{#- A validated non-negative number from a var (`default` when the var is not set). -#}
{% macro shop_number(var_name, default=none) %}
    {%- set value = var(var_name) if default is none else var(var_name, default) -%}
    {%- if value is not number or value < 0 -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var " ~ var_name ~ " = '" ~ value ~ "' must be a non-negative number") }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}
