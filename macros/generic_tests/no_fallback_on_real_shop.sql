{#-
    On segmentation_runs.status: fails when the current run fell back to one segment (status
    'fallback: ...') although it scored more than `max_customers` customers (var
    shop_fallback_max_customers), unless `allowed` (var shop_allow_fallback): on a shop that
    size one segment means the input needs looking at, not publishing. 'fallback: shop_k = 1'
    is asked for, not fallen back to, and passes. When it fails it logs one line with the
    run's reason (the model is read once more for it, only when it exists).
-#}
{% test no_fallback_on_real_shop(model, column_name, max_customers=none, allowed=none) %}
{%- set limit = max_customers if max_customers is not none
    else shop_var_number('shop_fallback_max_customers', 1000, minimum=0, whole=true) -%}
{%- set accept = allowed if allowed is not none
    else shop_var_bool('shop_allow_fallback', false) -%}
{%- set failing -%}
    select
        run_id,
        customers,
        {{ column_name }} as reason
    from {{ model }}
    where
        is_current
        and {{ column_name }} like 'fallback:%'
        and {{ column_name }} != 'fallback: shop_k = 1'
        and customers > {{ limit }}
        and not {{ accept }}
{%- endset -%}
{%- if execute and load_relation(model) is not none -%}
    {%- for row in run_query(failing).rows -%}
        {%- do log(
            "shopseg: run " ~ row[0] ~ " fell back to one segment on " ~ row[1] ~ " customers"
            ~ " (more than shop_fallback_max_customers = " ~ limit ~ "): " ~ row[2]
            ~ "; fix the input, or set shop_allow_fallback: true to accept one segment",
            info=true) -%}
    {%- endfor -%}
{%- endif -%}
{{ failing }}
{% endtest %}
