{#-
    A 1-5 score from the percent rank of `column` among the rows of the query:
    equal values share a score, so the result never depends on row order.
-#}
{% macro shop_score_1_to_5(column, descending=false) -%}
    cast(
        least(
            5,
            1 + floor(
                5 * percent_rank() over (order by {{ column }}{{ ' desc' if descending }})
            )
        ) as {{ dbt.type_int() }}
    )
{%- endmacro %}
