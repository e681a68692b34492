{#-
    A 1-5 score from the cumulative distribution of `column` among the rows of the query
    (5 = the top fifth). Equal values share the highest score of their group, so the result
    never depends on row order and a lone or all-tied top value scores 5.
-#}
{% macro shop_score_1_to_5(column, descending=false) -%}
    cast(
        ceil(5 * cume_dist() over (order by {{ column }}{{ ' desc' if descending }}))
        as {{ dbt.type_int() }}
    )
{%- endmacro %}

{#- The text key of a session: the input session_id, or the customer's rebuilt session number. -#}
{% macro shop_session_key(session_id, customer_id, session_number) -%}
    coalesce(
        'id-' || {{ session_id }},
        'gap-' || {{ customer_id }} || '-' || cast({{ session_number }} as {{ dbt.type_string() }})
    )
{%- endmacro %}

{#-
    A lookup table: the relation in the var shop_<name>_relation (a project's own seed or
    model, "{{ ref('my_rfm_segments') }}"), else the package's seed of that name, so
    that a project edits its lookups without touching dbt_packages/.
-#}
{% macro shop_lookup(name) %}
    {%- set relation = var('shop_' ~ name ~ '_relation', none) -%}
    {%- if relation is not none and (relation | string | trim) | length > 0 -%}
        {{ return(relation | string | trim) }}
    {%- endif -%}
    {{ return(ref('shopseg', name)) }}
{% endmacro %}
