{#- The latest model's segment names, with the segment_name_overrides seed applied. -#}
with

model as (
    select * from {{ ref('shopseg', 'int_segment_model__latest') }}
),

overrides as (
    select * from {{ shop_lookup('segment_name_overrides') }}
),

generated as (
    select
        run_id,
        segment_id,
        text_value as generated_name
    from model
    where record_type = 'segment_name'
),

final as (
    select
        generated.run_id,
        generated.segment_id,
        generated.generated_name,
        coalesce(
            cast(overrides.segment_name as {{ dbt.type_string() }}), generated.generated_name
        ) as segment_name,
        overrides.segment_name is not null as is_overridden
    from generated
    left join overrides
        on generated.segment_id = overrides.segment_id
)

select * from final
