{#-
    Fails for every combination of `combination_of_columns` that occurs more than once:
    the compound primary key of a long table (for example run_id + feature).
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns = combination_of_columns | join(', ') -%}

with

counts as (
    select
        {{ columns }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns }}
)

select *
from counts
where occurrences > 1
{% endtest %}
