{#-
    The shop's time zone (var shop_time_zone, an IANA name such as Europe/Berlin; UTC by
    default), checked before it reaches SQL: letters, digits and _ + - / only. Whether the
    warehouse knows the zone is its own check (DuckDB: "Unknown TimeZone").
-#}
{% macro shop_time_zone() %}
    {%- set zone = var('shop_time_zone', 'UTC') -%}
    {%- set zone = (zone | string | trim) if zone is not none else 'UTC' -%}
    {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', zone) -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_time_zone = '" ~ zone ~ "' is not a time zone name (an IANA "
            ~ "name such as Europe/Berlin, or UTC)") }}
    {%- endif -%}
    {{ return(zone) }}
{% endmacro %}


{#-
    A UTC timestamp as the wall-clock time of the shop's time zone (shop_time_zone), for
    the habit features (hour of day, day of week). UTC returns the column unchanged.
-#}
{% macro shop_local_time(column) %}
    {%- set zone = shop_time_zone() -%}
    {%- if zone | upper == 'UTC' -%}
        {{ return(column) }}
    {%- endif -%}
    {{ return(adapter.dispatch('shop_local_time', 'shopseg')(column, zone)) }}
{% endmacro %}
{#- PostgreSQL and DuckDB: a timestamp read as UTC, then shown in the zone. -#}
{% macro default__shop_local_time(column, zone) %}
    {{ return("((" ~ column ~ " at time zone 'UTC') at time zone '" ~ zone ~ "')") }}
{% endmacro %}
{% macro spark__shop_local_time(column, zone) %}
    {{ return("from_utc_timestamp(" ~ column ~ ", '" ~ zone ~ "')") }}
{% endmacro %}


{#- The ISO day of the week of a timestamp: 1 = Monday ... 7 = Sunday, on every warehouse. -#}
{% macro shop_iso_weekday(column) %}
    {{ return(adapter.dispatch('shop_iso_weekday', 'shopseg')(column)) }}
{% endmacro %}
{% macro default__shop_iso_weekday(column) %}
    {{ return("cast(extract(isodow from " ~ column ~ ") as " ~ dbt.type_int() ~ ")") }}
{% endmacro %}
{#- Spark's dow is 1 = Sunday; dayofweek_iso is ISO's. -#}
{% macro spark__shop_iso_weekday(column) %}
    {{ return("cast(extract(dayofweek_iso from " ~ column ~ ") as " ~ dbt.type_int() ~ ")") }}
{% endmacro %}


{#- The hour (0-23) of a timestamp as an integer. -#}
{% macro shop_hour(column) %}
    {{ return("cast(extract(hour from " ~ column ~ ") as " ~ dbt.type_int() ~ ")") }}
{% endmacro %}
