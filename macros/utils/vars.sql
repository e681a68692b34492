{#-
    A numeric var, checked before it reaches SQL: a number (or text that is exactly one),
    finite, whole when `whole`, within [minimum, maximum] when they are given. Anything
    else stops the build with one line naming the var, so a value such as '0.99 and false'
    never becomes part of a gate's SQL. `default` is used when the var is not set.
-#}
{% macro shop_var_number(var_name, default=none, minimum=none, maximum=none, whole=false) %}
    {%- set value = var(var_name, default) -%}
    {%- set number_pattern = '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$' -%}
    {%- set parsed = none -%}
    {%- if value is sameas true or value is sameas false or value is none -%}
        {%- set parsed = none -%}
    {%- elif value is number -%}
        {%- set parsed = value -%}
    {%- elif value is string and modules.re.match(number_pattern, value | trim) -%}
        {%- set text = value | trim -%}
        {%- set parsed = text | int if modules.re.match('^[+-]?[0-9]+$', text) else text | float -%}
    {%- endif -%}
    {%- set finite = parsed is not none and parsed == parsed and parsed | abs < 1e300 -%}
    {%- set ok = finite
        and (not whole or parsed == parsed | int)
        and (minimum is none or parsed >= minimum)
        and (maximum is none or parsed <= maximum) -%}
    {%- if not ok -%}
        {%- set bounds = [] -%}
        {%- if whole -%}{%- do bounds.append('whole') -%}{%- endif -%}
        {%- if minimum is not none and maximum is not none -%}
            {%- do bounds.append('between ' ~ minimum ~ ' and ' ~ maximum) -%}
        {%- elif minimum is not none -%}
            {%- do bounds.append('at least ' ~ minimum) -%}
        {%- elif maximum is not none -%}
            {%- do bounds.append('at most ' ~ maximum) -%}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var " ~ var_name ~ " = '" ~ value ~ "' must be a number"
            ~ (" (" ~ bounds | join(', ') ~ ")" if bounds else "")) }}
    {%- endif -%}
    {{ return(parsed | int if whole else parsed) }}
{% endmacro %}

{#- A true/false var, checked like shop_var_number (also the text 'true' / 'false'). -#}
{% macro shop_var_bool(var_name, default=none) %}
    {%- set value = var(var_name, default) -%}
    {%- if value is sameas true or value is sameas false -%}
        {{ return(value) }}
    {%- elif value is string and value | trim | lower in ('true', 'false') -%}
        {{ return(value | trim | lower == 'true') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "shopseg: var " ~ var_name ~ " = '" ~ value ~ "' must be true or false") }}
{% endmacro %}
