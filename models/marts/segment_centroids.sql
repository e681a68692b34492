{#- Centroids of every stored model per segment and feature, standardised and original units. -#}
with

history as (
    select * from {{ ref('shopseg', 'segment_kmeans_fit') }}
),

standardised as (
    select
        run_id,
        segment_id,
        name as feature,
        value as centroid_standardised
    from history
    where record_type = 'centroid'
),

original as (
    select
        run_id,
        segment_id,
        name as feature,
        value as centroid_original
    from history
    where record_type = 'centroid_original'
),

final as (
    select
        standardised.run_id,
        standardised.segment_id,
        standardised.feature,
        standardised.centroid_standardised,
        original.centroid_original
    from standardised
    left join original
        on
            standardised.run_id = original.run_id
            and standardised.segment_id = original.segment_id
            and standardised.feature = original.feature
)

select * from final
