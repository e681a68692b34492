{#-
    Means and standard deviations of a float column whose result does not depend on the order
    the rows are added in. A warehouse adds a float column up in whatever order its threads
    hand the rows over, so a plain avg() changes in its last bits from build to build (DuckDB:
    a different result in each of 6 runs over 3M rows on 4 threads). These add fixed-point
    decimals, which is exact: each value is first put on a 0..1 scale, (x - low) / span, with
    the column's minimum (`low`) and range (`span`, null when the column is constant) that the
    caller computes once, so that no magnitude overflows the decimal and small values keep
    their digits.
-#}

{#- The exact sum type of the unit-scale values: 24 digits after the point, up to 1.7e14 rows. -#}
{% macro shop_exact_decimal() -%}
    decimal(38, 24)
{%- endmacro %}

{#- avg(expression), exactly: low + span * mean of (x - low) / span. -#}
{% macro shop_exact_avg(expression, low, span) -%}
    (
        {{ low }} + coalesce({{ span }}, 0) * cast(avg(cast(
            case
                when {{ expression }} is not null
                    then coalesce(({{ expression }} - {{ low }}) / {{ span }}, 0)
            end as {{ shop_exact_decimal() }}
        )) as {{ shop_type_double() }})
    )
{%- endmacro %}

{#- stddev_samp(expression), exactly, around `mean` (its exact mean, from shop_exact_avg). -#}
{% macro shop_exact_stddev(expression, mean, span) -%}
    case
        when count({{ expression }}) > 1
            then coalesce({{ span }}, 0) * sqrt(
                cast(sum(cast(
                    case
                        when {{ expression }} is not null
                            then coalesce(
                                (({{ expression }} - {{ mean }}) / {{ span }})
                                * (({{ expression }} - {{ mean }}) / {{ span }}),
                                0
                            )
                    end as {{ shop_exact_decimal() }}
                )) as {{ shop_type_double() }})
                / (count({{ expression }}) - 1)
            )
    end
{%- endmacro %}
