{#-
    Fails for every id of `population` that has no row in the model (for example a segment
    without a rule). `where` narrows the model's rows, not the population.
-#}
{% test covers_population(model, column_name, population, population_column=none) %}
{%- set pop_col = population_column or column_name -%}

with

covered as (
    select distinct {{ column_name }} as id
    from {{ model }}
),

expected as (
    select distinct {{ pop_col }} as id
    from {{ population }}
    where {{ pop_col }} is not null
),

missing as (
    select expected.id
    from expected
    left join covered
        on expected.id = covered.id
    where covered.id is null
)

select * from missing
{% endtest %}
