{#- One row per stored model version: what it needs to score customers again. -#}
with

runs as (
    select * from {{ ref('shopseg', 'int_segment_runs') }}
),

final as (
    select
        run_id,
        run_seq,
        is_current,
        previous_run_id,
        cast(k as {{ dbt.type_int() }}) as k,
        cast(max_segment_id as {{ dbt.type_int() }}) as max_segment_id,
        features_used,
        config,
        library_versions
    from runs
)

select * from final
