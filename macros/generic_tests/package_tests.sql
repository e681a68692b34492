{#-
    Generic tests inside a package name their model with a one-argument ref
    (`ref('customer_segments')`, dbt's generic_test_builders), which dbt 1.11 resolves to
    the root project's model of that name when there is one (unless the root sets the
    behaviour flag require_ref_prefers_node_package_to_root). Every generic test wraps its
    model in get_where_subquery, so this one re-resolves the model of shopseg's own tests
    with a two-argument ref; other projects' tests are passed through untouched.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set key = (model.file_key_name if model is defined and model.package_name == 'shopseg'
        else none) or '' -%}
    {%- if key.startswith('models.') or key.startswith('seeds.') -%}
        {%- set relation = ref('shopseg', key.split('.', 1)[1]) -%}
    {%- endif -%}
    {{ return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) }}
{%- endmacro %}


{#-
    dbt skips rendering its own unique and not_null tests at parse time, so the ref above
    would not be known as a dependency; these wrappers make dbt render them (and then call
    dbt's own tests unchanged).
-#}
{% test unique(model, column_name) %}
    {{ dbt.test_unique(model, column_name) }}
{% endtest %}


{% test not_null(model, column_name) %}
    {{ dbt.test_not_null(model, column_name) }}
{% endtest %}
