-- The project's own time spine.
{{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2030-01-01' as date)") }}
