{#-
    Every id of `population` appears exactly once in the model, and the model holds no
    id outside it. Fails with one row per missing, duplicated or unknown id.
-#}
{% test segmented_exactly_once(model, column_name, population, population_column=none) %}
{%- set pop_col = population_column or column_name -%}

with

segmented as (
    select
        {{ column_name }} as id,
        count(*) as times_segmented
    from {{ model }}
    group by 1
),

expected as (
    select distinct {{ pop_col }} as id
    from {{ population }}
    where {{ pop_col }} is not null
),

problems as (
    select
        coalesce(expected.id, segmented.id) as id,
        coalesce(segmented.times_segmented, 0) as times_segmented,
        expected.id is not null as is_expected
    from expected
    full outer join segmented
        on expected.id = segmented.id
)

select *
from problems
where times_segmented != 1 or not is_expected
{% endtest %}
