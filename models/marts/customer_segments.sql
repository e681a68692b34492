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

customers as (
    select
        customer_id,
        -- a word that is no yes or no is unknown consent (counted in data_quality_issues)
        case when not is_consent_unreadable then accepts_marketing end as accepts_marketing,
        email_sha256
    from {{ ref('shopseg', 'stg_shop__customers') }}
    where not is_customer_id_missing
),

-- a customer listed twice: any false wins (never market to someone who said no), then true
contacts as (
    select
        customer_id,
        min(
            case when accepts_marketing then 1 when not accepts_marketing then 0 end
        ) as consent_code,
        min(email_sha256) as email_sha256
    from customers
    group by 1
),

holdout_hashes as (
    select
        customer_id,
        {{ shop_holdout_hash('customer_id') }} as holdout_hash
    from assignments
),

holdout as (
    select
        customer_id,
        {{ shop_is_holdout('holdout_hash') }} as is_holdout
    from holdout_hashes
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
        forest_scores.predicted_segment_id != assignments.segment_id as is_forest_disagreement,
        holdout.is_holdout,
        case
            when contacts.consent_code = 1 then true
            when contacts.consent_code = 0 then false
        end as accepts_marketing,
        contacts.email_sha256
    from assignments
    left join segment_names
        on assignments.segment_id = segment_names.segment_id
    left join features
        on assignments.customer_id = features.customer_id
    left join forest_scores
        on assignments.customer_id = forest_scores.customer_id
    inner join holdout
        on assignments.customer_id = holdout.customer_id
    left join contacts
        on assignments.customer_id = contacts.customer_id
)

select * from final
