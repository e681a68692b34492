{#- One row per customer: the segment they are in, with the segment's name. -#}
with

assignments as (
    select * from {{ ref('shopseg', 'segment_kmeans_assignments') }}
),

segment_names as (
    select * from {{ ref('shopseg', 'int_segment_names') }}
),

forest_scores as (
    select * from {{ ref('shopseg', 'segment_forest_scores') }}
),

features as (
    select
        customer_id,
        lifecycle_stage,
        rfm_segment
    from {{ ref('shopseg', 'customer_features') }}
),

final as (
    select
        assignments.customer_id,
        assignments.segment_id,
        segment_names.segment_name,
        assignments.centroid_distance,
        assignments.is_outlier,
        assignments.second_segment_id,
        assignments.second_centroid_distance,
        assignments.previous_segment_id,
        features.lifecycle_stage,
        features.rfm_segment,
        assignments.run_id,
        forest_scores.predicted_segment_id,
        case
            when forest_scores.predicted_segment_id is not null
                then forest_scores.predicted_probability
        end as predicted_probability,
        forest_scores.predicted_segment_id != assignments.segment_id as is_forest_disagreement
    from assignments
    left join segment_names
        on assignments.segment_id = segment_names.segment_id
    left join features
        on assignments.customer_id = features.customer_id
    left join forest_scores
        on assignments.customer_id = forest_scores.customer_id
)

select * from final
